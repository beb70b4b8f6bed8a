// Convolutional LSTMs: ConvLSTM1D/2D/3D (Keras ConvLSTMCell). Each step's gates are an input
// convolution of x_t (the layer's kernel, strides, dilation and padding, plus the bias) and a
// recurrent convolution of h_{t-1} (stride 1, "same" padding, no dilation), both by im2col + GEMM,
// in Keras's gate order i, f, c, o:
//   i = rec_act(.), f = rec_act(.), c = f * c + i * act(.), o = rec_act(.), h = o * act(c).
// return_sequences, return_state, go_backwards, channels_first and initial states are handled;
// masks and Keras 1's per-gate weights are refused.
#include <algorithm>

#include "engine/activations.h"
#include "engine/gemm.h"
#include "engine/layer.h"
#include "engine/layers/spatial.h"

namespace kmodel::engine {
namespace {

// A convolution of channels_last items with a fixed kernel, as im2col + GEMM (in chunks of items
// so the patch buffer stays cache-sized).
class PatchConv {
 public:
  PatchConv() = default;
  // kernel: (taps..., C, N), read as a (taps * C) x N matrix.
  explicit PatchConv(const Array& kernel)
      : w_(kernel.values.data(), numel(kernel.shape) / kernel.shape.back(), kernel.shape.back()) {}
  // y (n items x g.out_size() rows x N) = patches(x) * kernel [+ bias], or += when accumulate.
  void run(const float* x, int64_t n, const Geometry& g, int64_t C, float* y, const float* bias, bool accumulate) const {
    const int64_t P = g.out_size(), K = g.k_size() * C, N = w_.cols();
    const int64_t chunk = std::max<int64_t>(1, (int64_t{1} << 17) / std::max<int64_t>(P * (K + N), 1));
    thread_local std::vector<float> cols;
    for (int64_t i0 = 0; i0 < n; i0 += chunk) {
      const int64_t ni = std::min(chunk, n - i0);
      cols.resize(static_cast<size_t>(ni * P * K));
      for (int64_t b = 0; b < ni; ++b) im2col(x + (i0 + b) * g.in_size() * C, g, C, 0, C, cols.data() + b * P * K);
      gemm(cols.data(), ni * P, K, w_, y + i0 * P * N, N, accumulate ? nullptr : bias, accumulate);
    }
  }

 private:
  GemmWeights w_;
};

struct ConvLstmParams {
  int rank = 2;
  int64_t filters = 0;
  std::vector<int64_t> k, s, d;
  Padding padding = Padding::kValid;
  bool channels_first = false;
  Activation act, rec_act;
  bool return_sequences = false, return_state = false, go_backwards = false;
};

class ConvLstm : public Layer {
 public:
  ConvLstm(ConvLstmParams cp, const Array& kernel, const Array& rec, Array bias)
      : cp_(std::move(cp)), in_channels_(kernel.shape[cp_.rank]), input_conv_(kernel), rec_conv_(rec),
        bias_(std::move(bias)) {}

  std::vector<std::string> tensor_kwargs() const override { return {"initial_state"}; }

  std::vector<Array> apply(const std::vector<Array>& in, const Mask& mask) const override {
    if (mask) throw UnsupportedError("", "ConvLSTM", "masked inputs are not supported");
    const Array& raw = in.at(0);
    const int rank = cp_.rank;
    if (static_cast<int>(raw.shape.size()) != rank + 3)
      throw UsageError("ConvLSTM" + std::to_string(rank) + "D expects a rank-" + std::to_string(rank + 3) +
                       " input (batch, time, ...), got " + shape_str(raw.shape));
    // channels_first (batch, time, C, dims...) -> (batch, time, dims..., C).
    Array moved;
    if (cp_.channels_first) moved = move_axis(raw, 2, rank + 2);
    const Array& x = cp_.channels_first ? moved : raw;
    const int64_t B = x.shape[0], T = x.shape[1], C = x.shape.back(), F = cp_.filters, G = 4 * F;
    if (C != in_channels_)
      throw UsageError("ConvLSTM expects " + std::to_string(in_channels_) + " input channels, got " + std::to_string(C));
    const Shape dims(x.shape.begin() + 2, x.shape.end() - 1);
    const Geometry gx = conv_geometry(dims, cp_.k, cp_.s, cp_.d, cp_.padding);
    Shape out_dims;
    for (int i = 0; i < rank; ++i) out_dims.push_back(gx.out[i]);
    const std::vector<int64_t> ones(static_cast<size_t>(rank), 1);
    const Geometry gh = conv_geometry(out_dims, cp_.k, ones, ones, Padding::kSame);
    const int64_t P = gx.out_size();

    Shape state_shape{B};
    state_shape.insert(state_shape.end(), out_dims.begin(), out_dims.end());
    state_shape.push_back(F);
    Array h = make_array(state_shape), c = make_array(state_shape);
    auto initial = [&](size_t i, Array& state) {
      if (in.size() <= i) return;
      Array s = cp_.channels_first ? move_axis(in[i], 1, rank + 1) : in[i];
      if (s.shape != state_shape)
        throw UsageError("ConvLSTM initial state has shape " + shape_str(s.shape) + ", expected " + shape_str(state_shape));
      state = std::move(s);
    };
    initial(1, h);
    initial(2, c);

    Shape seq_shape{B, T};
    seq_shape.insert(seq_shape.end(), out_dims.begin(), out_dims.end());
    seq_shape.push_back(F);
    Array seq = cp_.return_sequences ? make_array(seq_shape) : Array{};
    std::vector<float> frames(static_cast<size_t>(B * gx.in_size() * C));
    std::vector<float> z(static_cast<size_t>(B * P * G));
    const float* bias = bias_.values.empty() ? nullptr : bias_.values.data();
    const int64_t frame = gx.in_size() * C;
    for (int64_t step = 0; step < T; ++step) {
      const int64_t t = cp_.go_backwards ? T - 1 - step : step;
      for (int64_t b = 0; b < B; ++b)
        std::copy_n(x.values.data() + (b * T + t) * frame, frame, frames.data() + b * frame);
      input_conv_.run(frames.data(), B, gx, C, z.data(), bias, false);
      rec_conv_.run(h.values.data(), B, gh, F, z.data(), nullptr, true);
      for (int64_t r = 0; r < B * P; ++r) {
        float* zr = z.data() + r * G;
        apply_activation(cp_.rec_act, zr, 2 * F, 2 * F);      // i, f
        apply_activation(cp_.act, zr + 2 * F, F, F);          // c~
        apply_activation(cp_.rec_act, zr + 3 * F, F, F);      // o
        float* cr = c.values.data() + r * F;
        float* hr = h.values.data() + r * F;
        for (int64_t j = 0; j < F; ++j) hr[j] = cr[j] = zr[F + j] * cr[j] + zr[j] * zr[2 * F + j];
        apply_activation(cp_.act, hr, F, F);
        for (int64_t j = 0; j < F; ++j) hr[j] *= zr[3 * F + j];
      }
      if (cp_.return_sequences)  // in processing order, as Keras stacks them (reversed for go_backwards)
        for (int64_t b = 0; b < B; ++b)
          std::copy_n(h.values.data() + b * P * F, P * F, seq.values.data() + (b * T + step) * P * F);
    }
    auto back = [&](Array a) {  // channels_last -> channels_first: the last axis goes before the spatial dims
      const int last = static_cast<int>(a.shape.size()) - 1;
      return cp_.channels_first ? move_axis(a, last, last - rank) : a;
    };
    std::vector<Array> outs;
    outs.push_back(back(cp_.return_sequences ? std::move(seq) : h));
    if (cp_.return_state) {
      outs.push_back(back(h));
      outs.push_back(back(c));
    }
    return outs;
  }
  Mask output_mask(const std::vector<Array>&, const Mask&, const std::vector<Array>&) const override { return nullptr; }

 private:
  ConvLstmParams cp_;
  int64_t in_channels_;
  PatchConv input_conv_, rec_conv_;
  Array bias_;
};

std::unique_ptr<Layer> make_conv_lstm(const LayerParams& p, int rank) {
  const Config& c = p.config;
  if (c.has("nb_filter") || p.weights.size() == 12) p.unsupported("Keras 1 ConvLSTM2D (per-gate weights)");
  ConvLstmParams cp;
  cp.rank = rank;
  cp.k = c.ints({"kernel_size"}, rank, 1);
  cp.s = c.ints({"strides"}, rank, 1);
  cp.d = c.ints({"dilation_rate"}, rank, 1);
  cp.padding = parse_padding(c.str_or({"padding"}, "valid"), p.name);
  if (cp.padding != Padding::kValid && cp.padding != Padding::kSame) p.unsupported("padding other than valid/same");
  cp.channels_first = c.channels_first();
  cp.act = c.activation({"activation"}, p.dialect);
  const char* default_rec = p.dialect == KerasDialect::kKeras3 ? "sigmoid" : "hard_sigmoid";
  cp.rec_act = parse_activation(c.str_or({"recurrent_activation"}, default_rec), p.dialect, p.name);
  cp.return_sequences = c.bool_or({"return_sequences"}, false);
  cp.return_state = c.bool_or({"return_state"}, false);
  cp.go_backwards = c.bool_or({"go_backwards"}, false);
  for (size_t i = 0; i < static_cast<size_t>(rank); ++i)
    if (cp.k[i] <= 0 || cp.s[i] <= 0 || cp.d[i] <= 0) p.bad("kernel_size, strides and dilation_rate must be positive");
  const bool use_bias = c.bool_or({"use_bias"}, true);
  p.expect_weights(use_bias ? 3 : 2, use_bias ? 3 : 2);
  const Array& kernel = p.weights[0];
  const Array& rec = p.weights[1];
  if (kernel.shape.size() != static_cast<size_t>(rank + 2) || kernel.shape.back() % 4 != 0)
    p.bad("kernel has shape " + shape_str(kernel.shape));
  cp.filters = kernel.shape.back() / 4;
  const int64_t F = cp.filters;
  const int64_t filters = c.int_or({"filters"}, F);
  if (filters != F) p.bad("kernel has " + std::to_string(4 * F) + " columns for " + std::to_string(filters) + " filters");
  for (int i = 0; i < rank; ++i)
    if (kernel.shape[i] != cp.k[i]) p.bad("kernel has shape " + shape_str(kernel.shape) + " for kernel_size " + shape_str(cp.k));
  Shape rec_shape(cp.k.begin(), cp.k.end());
  rec_shape.push_back(F);
  rec_shape.push_back(4 * F);
  p.expect_shape(1, rec_shape);
  Array bias;
  if (use_bias) {
    p.expect_shape(2, {4 * F});
    bias = p.weights[2];
  }
  return std::make_unique<ConvLstm>(std::move(cp), kernel, rec, std::move(bias));
}

}  // namespace

void register_conv_recurrent_layers(Registry& r) {
  r.add("ConvLSTM1D", [](const LayerParams& p) { return make_conv_lstm(p, 1); });
  r.add("ConvLSTM2D", [](const LayerParams& p) { return make_conv_lstm(p, 2); });
  r.add("ConvLSTM3D", [](const LayerParams& p) { return make_conv_lstm(p, 3); });
}

}  // namespace kmodel::engine
