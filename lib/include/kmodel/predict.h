// Native inference over the IR: compile a Model (architecture + weights) into an executable graph
// once, then run it on float32 arrays. Layers are executed by kmodel's own code (lib/engine/); no
// code from the model file is ever run, so Lambda layers and custom classes are refused at compile.
#pragma once

#include <memory>
#include <utility>
#include <string>
#include <vector>

#include "kmodel/model.h"

namespace kmodel {

namespace engine {
class Graph;
}

// A dense float32 array in C (row-major) order. shape[0] is the batch dimension for model I/O.
struct FloatArray {
  Shape shape;
  std::vector<float> values;
};

// A model input or output: its name and its Keras shape with -1 for unknown dims (batch included).
struct PredictIO {
  std::string name;
  Shape shape;
};

// Converts a numeric Tensor (float16/32/64, bfloat16, integers, bool) to float32.
// Throws UnsupportedError for strings and complex numbers.
FloatArray to_float_array(const Tensor& tensor, const std::string& context = "");

// A named array for predict's file I/O.
using NamedArray = std::pair<std::string, FloatArray>;

// Reads predict input arrays by content of the name: .npy (one array, named ""), .npz (every array,
// by entry name), .json (a nested list -> one array named "", or an object of name -> nested list),
// .csv (2-D numbers; a non-numeric first line is a header). Integer and float16/64 data become
// float32. Throws BadInputError on malformed files (ragged lists, bad headers, sizes).
std::vector<NamedArray> read_arrays(const std::string& path);
// Writes arrays atomically by the destination's extension: .npy (exactly one array), .npz, .json
// (an object of name -> nested list). Refuses an existing destination unless `force` (IoError).
void write_arrays(const std::vector<NamedArray>& arrays, const std::string& path, bool force);
// A readable table: per array its name and shape, then one line per batch row.
std::string format_arrays(const std::vector<NamedArray>& arrays);

class Predictor {
 public:
  // Parses the architecture, creates every layer and loads all weights (converted to float32).
  // Throws UnsupportedError naming the layer and class for layers kmodel cannot run (Lambda, custom
  // classes), BadInputError when weights are missing or have the wrong shape.
  explicit Predictor(const Model& model);
  ~Predictor();
  Predictor(Predictor&&) noexcept;
  Predictor& operator=(Predictor&&) noexcept;

  const std::vector<PredictIO>& inputs() const;
  const std::vector<PredictIO>& outputs() const;

  // Runs one batch. `inputs` are in the order of inputs(); each shape must match the declared
  // shape where it is known (UsageError otherwise). Returns one array per output, in order.
  std::vector<FloatArray> run(const std::vector<FloatArray>& inputs) const;

 private:
  std::unique_ptr<engine::Graph> graph_;
};

}  // namespace kmodel
