// The maths both frameworks' ops share: log(cosh(x)) that never overflows, and its derivative.
#pragma once
#include <cmath>

#ifdef __CUDACC__
#define LOGCOSH_HD __host__ __device__
#else
#define LOGCOSH_HD
#endif

// log(cosh(x)) = |x| + log1p(exp(-2|x|)) - log(2): exp only ever sees a number <= 0.
template <typename T>
LOGCOSH_HD inline T logcosh(T x) {
  T a = x < T(0) ? -x : x;
  return a + log1p(exp(T(-2) * a)) - T(0.69314718055994530942);
}

// d/dx log(cosh(x)) = tanh(x), times the gradient arriving from above.
template <typename T>
LOGCOSH_HD inline T logcosh_grad(T grad, T x) {
  return grad * tanh(x);
}
