// Run a saved PyTorch program from C++ with libtorch from the torch wheel: no Python, no model class.
//   torch_run aoti        PACKAGE.pt2 INPUT.f32 N C H W OUTPUT.f32   an AOTInductor package
//   torch_run torchscript MODEL.pt    INPUT.f32 N C H W OUTPUT.f32   a TorchScript file (legacy)
// INPUT/OUTPUT are raw little-endian float32 arrays (NumPy's tofile/fromfile). Prints the output
// shape, and whether a Python library is mapped into this process (Linux: /proc/self/maps).
#include <torch/csrc/inductor/aoti_package/model_package_loader.h>
#include <torch/csrc/jit/api/module.h>
#include <torch/csrc/jit/serialization/import.h>
#include <ATen/ATen.h>
#include <c10/core/InferenceMode.h>

#include <fstream>
#include <iostream>
#include <string>
#include <vector>

static std::string python_in_process() {
  std::ifstream maps("/proc/self/maps");
  if (!maps) return "unknown (no /proc on this system)";
  for (std::string line; std::getline(maps, line);)
    if (line.find("libpython") != std::string::npos) return "yes";
  return "no";
}

int main(int argc, char** argv) {
  const std::string mode = argc > 1 ? argv[1] : "";
  if (argc != 9 || (mode != "aoti" && mode != "torchscript")) {
    std::cerr << "usage: torch_run aoti|torchscript MODEL INPUT.f32 N C H W OUTPUT.f32\n";
    return 2;
  }
  std::vector<int64_t> shape = {std::stoll(argv[4]), std::stoll(argv[5]), std::stoll(argv[6]), std::stoll(argv[7])};
  at::Tensor x = at::empty(shape, at::kFloat);
  std::ifstream in(argv[3], std::ios::binary);
  in.read(reinterpret_cast<char*>(x.data_ptr<float>()), x.numel() * sizeof(float));
  if (!in) {
    std::cerr << "could not read " << x.numel() << " floats from " << argv[3] << "\n";
    return 1;
  }
  c10::InferenceMode no_autograd;
  at::Tensor y;
  if (mode == "aoti") {
    torch::inductor::AOTIModelPackageLoader loader(argv[2]);
    y = loader.run({x}).at(0).contiguous();
  } else {
    torch::jit::Module module = torch::jit::load(argv[2]);
    module.eval();
    y = module.forward({x}).toTensor().contiguous();
  }
  std::ofstream out(argv[8], std::ios::binary);
  out.write(reinterpret_cast<const char*>(y.data_ptr<float>()), y.numel() * sizeof(float));
  std::cout << mode << ": output shape (" << y.size(0) << ", " << y.size(1) << "), Python in this process: "
            << python_in_process() << std::endl;
  return 0;
}
