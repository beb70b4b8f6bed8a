// See keras1_weights.h: Keras 1 per-gate RNN weights merged, Keras 1 weights named as Keras 2+.
#include "core/keras1_weights.h"

#include <map>

#include "core/keras3_dialect.h"
#include "core/layer_shapes.h"
#include "kmodel/architecture.h"

namespace kmodel {
namespace {

// Several tensors concatenated along their last axis, read on load.
class ConcatSource : public TensorSource {
 public:
  explicit ConcatSource(std::vector<TensorRef> parts) : parts_(std::move(parts)) {}
  Tensor read() const override {
    std::vector<Tensor> ts;
    for (const auto& p : parts_) ts.push_back(p.load());
    Tensor out;
    out.dtype = ts[0].dtype;
    out.shape = ts[0].shape;
    size_t es = dtype_size(out.dtype);
    int64_t rows = 1;
    for (size_t d = 0; d + 1 < out.shape.size(); ++d) rows *= out.shape[d];
    int64_t cols = 0;
    for (const auto& t : ts) cols += t.shape.empty() ? 1 : t.shape.back();
    if (!out.shape.empty()) out.shape.back() = cols;
    out.data.reserve(static_cast<size_t>(rows * cols) * es);
    for (int64_t r = 0; r < rows; ++r)
      for (const auto& t : ts) {
        size_t row_bytes = static_cast<size_t>(t.shape.empty() ? 1 : t.shape.back()) * es;
        out.data.insert(out.data.end(), t.data.begin() + static_cast<long>(r * row_bytes),
                        t.data.begin() + static_cast<long>((r + 1) * row_bytes));
      }
    return out;
  }
  std::string describe() const override {
    std::string s = "concat(";
    for (size_t i = 0; i < parts_.size(); ++i) s += (i ? ", " : "") + parts_[i].describe();
    return s + ")";
  }

 private:
  std::vector<TensorRef> parts_;
};

// The layer's weights merged per RNN half when it holds Keras 1 per-gate arrays for `halves` cells.
std::vector<Weight> merge_halves(const std::vector<Weight>& weights, size_t halves, const std::string& layer) {
  if (halves == 0 || weights.size() % halves) return {};
  size_t per = weights.size() / halves;
  std::vector<Weight> merged;
  for (size_t h = 0; h < halves; ++h) {
    std::vector<const Weight*> part;
    for (size_t i = h * per; i < (h + 1) * per; ++i) part.push_back(&weights[i]);
    auto m = merge_keras1_rnn(part, layer);
    if (m.empty()) return {};
    for (auto& w : m) merged.push_back(std::move(w));
  }
  return merged;
}

}  // namespace

std::vector<Weight> merge_keras1_rnn(const std::vector<const Weight*>& ws, const std::string& layer) {
  std::vector<std::vector<size_t>> groups;
  if (ws.size() == 12) groups = {{0, 6, 3, 9}, {1, 7, 4, 10}, {2, 8, 5, 11}};  // stored i, c, f, o -> i, f, c, o
  else if (ws.size() == 9) groups = {{0, 3, 6}, {1, 4, 7}, {2, 5, 8}};     // z, r, h
  else return {};
  const char* names[] = {"kernel", "recurrent_kernel", "bias"};
  std::vector<Weight> out;
  for (size_t g = 0; g < 3; ++g) {
    std::vector<TensorRef> parts;
    Shape shape;
    for (size_t idx : groups[g]) {
      const TensorRef& t = ws[idx]->tensor;
      if (t.shape().empty()) return {};
      if (shape.empty()) shape = t.shape();
      else if (t.shape().size() != shape.size() || t.dtype() != parts[0].dtype()) return {};
      else shape.back() += t.shape().back();
      parts.push_back(t);
    }
    Weight w;
    w.name = layer + "/" + names[g] + ":0";
    w.attr = std::string("cell/") + names[g];
    w.trainable = ws[groups[g][0]]->trainable;
    DType dt = parts[0].dtype();
    w.tensor = TensorRef(dt, shape, std::make_shared<ConcatSource>(std::move(parts)));
    out.push_back(std::move(w));
  }
  return out;
}

Model keras2_weight_view(const Model& model, std::vector<std::string>* notes) {
  if (model.dialect != KerasDialect::kKeras1 || !model.has_architecture()) return model;
  std::map<std::string, LayerShapes> shapes;
  try {
    ArchitectureSpec arch = parse_architecture(to_keras3_model_config(model.model_config, nullptr), model.path);
    shapes = infer_layer_shapes(arch, model.path);
  } catch (const std::exception&) {
    return model;  // an architecture kmodel cannot follow: compare the weights as stored
  }
  Model view = model;
  for (auto& layer : view.layers) {
    auto it = shapes.find(layer.name);
    if (it == shapes.end() || !it->second.known || layer.weights.empty()) continue;
    const auto& expected = it->second.weights;
    std::vector<Weight> weights = layer.weights;
    if (weights.size() != expected.size() && (expected.size() == 3 || expected.size() == 6)) {
      auto merged = merge_halves(weights, expected.size() / 3, layer.name);
      if (merged.size() == expected.size()) {
        if (notes)
          notes->push_back(layer.name + ": Keras 1 per-gate weights (" + std::to_string(weights.size()) +
                           " arrays) merged into kernel, recurrent_kernel, bias as Keras loads them");
        weights = std::move(merged);
      }
    }
    if (weights.size() != expected.size()) continue;
    bool renamed = false;
    for (size_t i = 0; i < weights.size(); ++i) {
      const ExpectedWeight& e = expected[i];
      if (weights[i].tensor.shape().size() != e.shape.size()) {
        renamed = false;
        weights = layer.weights;
        break;
      }
      std::string name = layer.name + "/" + e.name + ":0";
      if (weights[i].name != name) renamed = true;
      weights[i].name = name;
      weights[i].attr = e.attr.empty() ? e.name : e.attr;
    }
    if (renamed && notes) notes->push_back(layer.name + ": Keras 1 weight names read as Keras 2 variable names, by position");
    layer.weights = std::move(weights);
  }
  return view;
}

}  // namespace kmodel
