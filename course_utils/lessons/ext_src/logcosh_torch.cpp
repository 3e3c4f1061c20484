// PyTorch: the interface (the schema) and the CPU implementation, registered with TORCH_LIBRARY.
// [headers]
#include <ATen/ATen.h>
#include <ATen/Dispatch.h>
#include <torch/library.h>

#include "logcosh.h"

// [kernels]
at::Tensor logcosh_forward(const at::Tensor& x) {
  at::Tensor xc = x.contiguous();
  at::Tensor y = at::empty_like(xc);
  AT_DISPATCH_FLOATING_TYPES(xc.scalar_type(), "logcosh", [&] {
    const scalar_t* in = xc.data_ptr<scalar_t>();
    scalar_t* out = y.data_ptr<scalar_t>();
    for (int64_t i = 0; i < xc.numel(); ++i) out[i] = logcosh(in[i]);
  });
  return y;
}

at::Tensor logcosh_backward(const at::Tensor& grad, const at::Tensor& x) {
  TORCH_CHECK(grad.sizes() == x.sizes(), "logcosh_backward: grad and x differ in shape");
  at::Tensor gc = grad.contiguous().to(x.scalar_type()), xc = x.contiguous();
  at::Tensor dx = at::empty_like(xc);
  AT_DISPATCH_FLOATING_TYPES(xc.scalar_type(), "logcosh_backward", [&] {
    const scalar_t* g = gc.data_ptr<scalar_t>();
    const scalar_t* in = xc.data_ptr<scalar_t>();
    scalar_t* out = dx.data_ptr<scalar_t>();
    for (int64_t i = 0; i < xc.numel(); ++i) out[i] = logcosh_grad(g[i], in[i]);
  });
  return dx;
}

// [interface]
TORCH_LIBRARY(course_ext, m) {
  m.def("logcosh(Tensor x) -> Tensor");
  m.def("logcosh_backward(Tensor grad, Tensor x) -> Tensor");
}

// [registration]
TORCH_LIBRARY_IMPL(course_ext, CPU, m) {
  m.impl("logcosh", &logcosh_forward);
  m.impl("logcosh_backward", &logcosh_backward);
}
