// Run an AOTInductor package (.pt2 from torch._inductor.aoti_compile_and_package) from C++.
// No Python, no model class: libtorch from the torch wheel loads the compiled model and its weights.
//   aoti_run PACKAGE.pt2 INPUT.f32 N C H W OUTPUT.f32
// INPUT/OUTPUT are raw little-endian float32 arrays (NumPy's tofile/fromfile); prints the output shape.
#include <torch/csrc/inductor/aoti_package/model_package_loader.h>
#include <ATen/ATen.h>

#include <cstdio>
#include <fstream>
#include <iostream>
#include <string>
#include <vector>

int main(int argc, char** argv) {
  if (argc != 8) {
    std::cerr << "usage: aoti_run PACKAGE.pt2 INPUT.f32 N C H W OUTPUT.f32\n";
    return 2;
  }
  std::vector<int64_t> shape = {std::stoll(argv[3]), std::stoll(argv[4]), std::stoll(argv[5]), std::stoll(argv[6])};
  at::Tensor x = at::empty(shape, at::kFloat);
  std::ifstream in(argv[2], std::ios::binary);
  in.read(reinterpret_cast<char*>(x.data_ptr<float>()), x.numel() * sizeof(float));
  if (!in) {
    std::cerr << "could not read " << x.numel() << " floats from " << argv[2] << "\n";
    return 1;
  }
  torch::inductor::AOTIModelPackageLoader loader(argv[1]);
  std::vector<at::Tensor> outputs = loader.run({x});
  at::Tensor y = outputs.at(0).contiguous();
  std::ofstream out(argv[7], std::ios::binary);
  out.write(reinterpret_cast<const char*>(y.data_ptr<float>()), y.numel() * sizeof(float));
  std::cout << "output shape (" << y.size(0) << ", " << y.size(1) << ")" << std::endl;
  return 0;
}
