/* Run a SavedModel's serving signature from C, with TensorFlow's C API (libtensorflow_cc from the TF wheel).
 * No Python, no model code: the SavedModel holds the graph and the weights.
 *   tf_run SAVED_MODEL_DIR INPUT_TENSOR OUTPUT_TENSOR INPUT.f32 N H W C OUTPUT.f32
 * INPUT_TENSOR/OUTPUT_TENSOR are graph tensor names from the signature, e.g. serving_default_x:0.
 * INPUT/OUTPUT are raw little-endian float32 arrays. Prints the output shape, and whether a Python library
 * is mapped into this process (Linux: /proc/self/maps). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tensorflow/c/c_api.h"

static int fail(const char* what, TF_Status* status) {
  fprintf(stderr, "%s: %s\n", what, TF_Message(status));
  return 1;
}

/* "name:index" -> the graph operation and its output index */
static TF_Output find(TF_Graph* graph, const char* tensor_name) {
  char name[256];
  TF_Output result = {NULL, 0};
  const char* colon = strrchr(tensor_name, ':');
  size_t length = colon ? (size_t)(colon - tensor_name) : strlen(tensor_name);
  if (length >= sizeof name) return result;
  memcpy(name, tensor_name, length);
  name[length] = '\0';
  result.oper = TF_GraphOperationByName(graph, name);
  result.index = colon ? atoi(colon + 1) : 0;
  return result;
}

/* "yes"/"no": is a libpython mapped into this process? */
static const char* python_in_process(void) {
  char line[4096];
  const char* found = "no";
  FILE* maps = fopen("/proc/self/maps", "r");
  if (!maps) return "unknown (no /proc on this system)";
  while (fgets(line, sizeof line, maps))
    if (strstr(line, "libpython")) found = "yes";
  fclose(maps);
  return found;
}

static void no_free(void* data, size_t length, void* arg) { (void)data; (void)length; (void)arg; }

int main(int argc, char** argv) {
  if (argc != 10) {
    fprintf(stderr, "usage: tf_run SAVED_MODEL_DIR INPUT_TENSOR OUTPUT_TENSOR INPUT.f32 N H W C OUTPUT.f32\n");
    return 2;
  }
  int64_t dims[4] = {atoll(argv[5]), atoll(argv[6]), atoll(argv[7]), atoll(argv[8])};
  size_t count = (size_t)(dims[0] * dims[1] * dims[2] * dims[3]);
  float* data = malloc(count * sizeof(float));
  FILE* in = fopen(argv[4], "rb");
  if (!in || fread(data, sizeof(float), count, in) != count) {
    fprintf(stderr, "could not read %zu floats from %s\n", count, argv[4]);
    return 1;
  }
  fclose(in);

  TF_Status* status = TF_NewStatus();
  TF_Graph* graph = TF_NewGraph();
  TF_SessionOptions* options = TF_NewSessionOptions();
  const char* tags[] = {"serve"};
  TF_Session* session = TF_LoadSessionFromSavedModel(options, NULL, argv[1], tags, 1, graph, NULL, status);
  if (TF_GetCode(status) != TF_OK) return fail("loading the SavedModel", status);

  TF_Output input = find(graph, argv[2]), output = find(graph, argv[3]);
  if (!input.oper || !output.oper) {
    fprintf(stderr, "tensor %s or %s is not in the graph\n", argv[2], argv[3]);
    return 1;
  }
  TF_Tensor* x = TF_NewTensor(TF_FLOAT, dims, 4, data, count * sizeof(float), no_free, NULL);
  TF_Tensor* y = NULL;
  TF_SessionRun(session, NULL, &input, &x, 1, &output, &y, 1, NULL, 0, NULL, status);
  if (TF_GetCode(status) != TF_OK) return fail("running the signature", status);

  FILE* out = fopen(argv[9], "wb");
  fwrite(TF_TensorData(y), 1, TF_TensorByteSize(y), out);
  fclose(out);
  printf("output shape (%lld, %lld), Python in this process: %s\n", (long long)TF_Dim(y, 0), (long long)TF_Dim(y, 1),
         python_in_process());

  TF_DeleteTensor(x);
  TF_DeleteTensor(y);
  TF_CloseSession(session, status);
  TF_DeleteSession(session, status);
  TF_DeleteSessionOptions(options);
  TF_DeleteGraph(graph);
  TF_DeleteStatus(status);
  free(data);
  return 0;
}
