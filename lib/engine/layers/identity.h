// The layer that returns its input unchanged (and passes its mask on): Dropout and the other layers
// that only act while training, shared by the layer families that register such classes.
#pragma once

#include "engine/layer.h"

namespace kmodel::engine {

class IdentityLayer : public InPlaceLayer {
 public:
  Array run(Array x, const Mask&) const override { return x; }
  Mask output_mask(const std::vector<Array>&, const Mask& m, const std::vector<Array>&) const override { return m; }
};

}  // namespace kmodel::engine
