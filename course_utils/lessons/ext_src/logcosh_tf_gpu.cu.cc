// TensorFlow, the CUDA half: GPU kernels for the same two ops (built only with nvcc and a GPU).
// [headers]
#define EIGEN_USE_GPU
#include "tensorflow/core/framework/op_kernel.h"

#include "logcosh.h"

using namespace tensorflow;
using GPUDevice = Eigen::GpuDevice;

// [kernels]
template <typename T>
__global__ void LogCoshKernel(const T* x, T* y, int64_t n) {
  int64_t i = blockIdx.x * static_cast<int64_t>(blockDim.x) + threadIdx.x;
  if (i < n) y[i] = logcosh(x[i]);
}

template <typename T>
__global__ void LogCoshGradKernel(const T* g, const T* x, T* dx, int64_t n) {
  int64_t i = blockIdx.x * static_cast<int64_t>(blockDim.x) + threadIdx.x;
  if (i < n) dx[i] = logcosh_grad(g[i], x[i]);
}

template <typename T>
class LogCoshGpuOp : public OpKernel {
 public:
  explicit LogCoshGpuOp(OpKernelConstruction* context) : OpKernel(context) {}

  void Compute(OpKernelContext* context) override {
    const Tensor& x = context->input(0);
    Tensor* y = nullptr;
    OP_REQUIRES_OK(context, context->allocate_output(0, x.shape(), &y));
    const int64_t n = x.NumElements();
    if (n == 0) return;
    auto stream = context->eigen_device<GPUDevice>().stream();
    LogCoshKernel<T><<<(n + 255) / 256, 256, 0, stream>>>(x.flat<T>().data(), y->flat<T>().data(), n);
  }
};

template <typename T>
class LogCoshGradGpuOp : public OpKernel {
 public:
  explicit LogCoshGradGpuOp(OpKernelConstruction* context) : OpKernel(context) {}

  void Compute(OpKernelContext* context) override {
    const Tensor& grad = context->input(0);
    const Tensor& x = context->input(1);
    OP_REQUIRES(context, grad.shape() == x.shape(),
                absl::InvalidArgumentError("LogCoshGrad: grad and x differ in shape"));
    Tensor* dx = nullptr;
    OP_REQUIRES_OK(context, context->allocate_output(0, x.shape(), &dx));
    const int64_t n = x.NumElements();
    if (n == 0) return;
    auto stream = context->eigen_device<GPUDevice>().stream();
    LogCoshGradKernel<T><<<(n + 255) / 256, 256, 0, stream>>>(
        grad.flat<T>().data(), x.flat<T>().data(), dx->flat<T>().data(), n);
  }
};

// [registration]
#define REGISTER_GPU(T)                                                                \
  REGISTER_KERNEL_BUILDER(Name("LogCosh").Device(DEVICE_GPU).TypeConstraint<T>("T"),     \
                          LogCoshGpuOp<T>);                                            \
  REGISTER_KERNEL_BUILDER(Name("LogCoshGrad").Device(DEVICE_GPU).TypeConstraint<T>("T"), \
                          LogCoshGradGpuOp<T>);
REGISTER_GPU(float);
REGISTER_GPU(double);
