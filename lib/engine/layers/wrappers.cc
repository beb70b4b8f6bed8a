// TimeDistributed: applies the wrapped layer to every time step by folding time into the batch.
#include "engine/layer.h"

namespace kmodel::engine {
namespace {

class TimeDistributed : public Layer {
 public:
  explicit TimeDistributed(std::unique_ptr<Layer> inner) : inner_(std::move(inner)) {}
  std::vector<Array> apply(const std::vector<Array>& in, const Mask&) const override {
    const Array& x = in.at(0);
    if (x.shape.size() < 3) throw UsageError("TimeDistributed expects (batch, time, ...), got " + shape_str(x.shape));
    const int64_t B = x.shape[0], T = x.shape[1];
    Array folded = x;
    folded.shape.erase(folded.shape.begin());
    folded.shape[0] = B * T;
    std::vector<Array> outs = inner_->apply({folded}, nullptr);
    for (Array& y : outs) {
      Shape s{B, T};
      s.insert(s.end(), y.shape.begin() + 1, y.shape.end());
      y.shape = s;
    }
    return outs;
  }

 private:
  std::unique_ptr<Layer> inner_;
};

}  // namespace

void register_wrapper_layers(Registry& r) {
  r.add("TimeDistributed", [](const LayerParams& p) -> std::unique_ptr<Layer> {
    auto [cls, cfg] = p.config.nested_layer("layer");
    LayerParams ip = p;
    ip.class_name = cls;
    ip.config = Config(cfg, p.file, p.name + "/" + cls);
    return std::make_unique<TimeDistributed>(create_layer(ip));
  });
}

}  // namespace kmodel::engine
