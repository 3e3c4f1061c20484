// TensorFlow: the interface (REGISTER_OP, with TF's stock shape function) and the CPU kernels (OpKernel).
// [headers]
#include "tensorflow/core/framework/op.h"
#include "tensorflow/core/framework/op_kernel.h"
#include "tensorflow/core/framework/common_shape_fns.h"

#include "logcosh.h"

using namespace tensorflow;

// [interface]
REGISTER_OP("LogCosh")
    .Attr("T: {float, double}")
    .Input("x: T")
    .Output("y: T")
    .SetShapeFn(shape_inference::UnchangedShape);  // the output has x's shape

REGISTER_OP("LogCoshGrad")
    .Attr("T: {float, double}")
    .Input("grad: T")
    .Input("x: T")
    .Output("dx: T")
    .SetShapeFn(shape_inference::UnchangedShape);  // dx has grad's shape (grad and x are alike)

// [kernels]
template <typename T>
class LogCoshOp : public OpKernel {
 public:
  explicit LogCoshOp(OpKernelConstruction* context) : OpKernel(context) {}

  void Compute(OpKernelContext* context) override {
    const Tensor& x = context->input(0);
    Tensor* y = nullptr;
    OP_REQUIRES_OK(context, context->allocate_output(0, x.shape(), &y));
    auto in = x.flat<T>();
    auto out = y->flat<T>();
    for (int64_t i = 0; i < in.size(); ++i) out(i) = logcosh(in(i));
  }
};

template <typename T>
class LogCoshGradOp : public OpKernel {
 public:
  explicit LogCoshGradOp(OpKernelConstruction* context) : OpKernel(context) {}

  void Compute(OpKernelContext* context) override {
    const Tensor& grad = context->input(0);
    const Tensor& x = context->input(1);
    OP_REQUIRES(context, grad.shape() == x.shape(),
                absl::InvalidArgumentError("LogCoshGrad: grad and x differ in shape"));
    Tensor* dx = nullptr;
    OP_REQUIRES_OK(context, context->allocate_output(0, x.shape(), &dx));
    auto g = grad.flat<T>();
    auto in = x.flat<T>();
    auto out = dx->flat<T>();
    for (int64_t i = 0; i < in.size(); ++i) out(i) = logcosh_grad(g(i), in(i));
  }
};

// [registration]
#define REGISTER_CPU(T)                                                                \
  REGISTER_KERNEL_BUILDER(Name("LogCosh").Device(DEVICE_CPU).TypeConstraint<T>("T"),     \
                          LogCoshOp<T>);                                               \
  REGISTER_KERNEL_BUILDER(Name("LogCoshGrad").Device(DEVICE_CPU).TypeConstraint<T>("T"), \
                          LogCoshGradOp<T>);
REGISTER_CPU(float);
REGISTER_CPU(double);
