// PyTorch, the CUDA half: the same schema gets a CUDA implementation (built only with nvcc and a GPU).
// [headers]
#include <ATen/ATen.h>
#include <ATen/Dispatch.h>
#include <ATen/cuda/CUDAContext.h>
#include <torch/library.h>

#include "logcosh.h"

// [kernels]
template <typename T>
__global__ void logcosh_kernel(const T* x, T* y, int64_t n) {
  int64_t i = blockIdx.x * static_cast<int64_t>(blockDim.x) + threadIdx.x;
  if (i < n) y[i] = logcosh(x[i]);
}

template <typename T>
__global__ void logcosh_grad_kernel(const T* g, const T* x, T* dx, int64_t n) {
  int64_t i = blockIdx.x * static_cast<int64_t>(blockDim.x) + threadIdx.x;
  if (i < n) dx[i] = logcosh_grad(g[i], x[i]);
}

at::Tensor logcosh_forward_cuda(const at::Tensor& x) {
  at::Tensor xc = x.contiguous();
  at::Tensor y = at::empty_like(xc);
  const int64_t n = xc.numel();
  if (n == 0) return y;
  AT_DISPATCH_FLOATING_TYPES(xc.scalar_type(), "logcosh_cuda", [&] {
    logcosh_kernel<scalar_t><<<(n + 255) / 256, 256, 0, at::cuda::getCurrentCUDAStream()>>>(
        xc.data_ptr<scalar_t>(), y.data_ptr<scalar_t>(), n);
  });
  return y;
}

at::Tensor logcosh_backward_cuda(const at::Tensor& grad, const at::Tensor& x) {
  TORCH_CHECK(grad.sizes() == x.sizes(), "logcosh_backward: grad and x differ in shape");
  at::Tensor gc = grad.contiguous().to(x.scalar_type()), xc = x.contiguous();
  at::Tensor dx = at::empty_like(xc);
  const int64_t n = xc.numel();
  if (n == 0) return dx;
  AT_DISPATCH_FLOATING_TYPES(xc.scalar_type(), "logcosh_backward_cuda", [&] {
    logcosh_grad_kernel<scalar_t><<<(n + 255) / 256, 256, 0, at::cuda::getCurrentCUDAStream()>>>(
        gc.data_ptr<scalar_t>(), xc.data_ptr<scalar_t>(), dx.data_ptr<scalar_t>(), n);
  });
  return dx;
}

// [registration]
TORCH_LIBRARY_IMPL(course_ext, CUDA, m) {
  m.impl("logcosh", &logcosh_forward_cuda);
  m.impl("logcosh_backward", &logcosh_backward_cuda);
}
