// Recurrent layers: LSTM, GRU (reset_after true/false), SimpleRNN with return_sequences,
// return_state, go_backwards, masks and initial states; Bidirectional (all merge modes).
// Keras 1 per-gate weights (LSTM 12 tensors, GRU 9) are concatenated into Keras 2 layout at build.
#include <algorithm>

#include "engine/activations.h"
#include "engine/gemm.h"
#include "engine/layer.h"

namespace kmodel::engine {
namespace {

enum class Cell { kLSTM, kGRU, kSimple };

struct RnnParams {
  Cell cell = Cell::kLSTM;
  int64_t units = 0;
  Activation act, rec_act;
  bool return_sequences = false, return_state = false, go_backwards = false, reset_after = false;
  bool zero_output_for_mask = false;
};

Array concat_cols(const std::vector<const Array*>& parts) {
  // Concatenates along the last axis; all parts share the leading dims of parts[0].
  const int64_t last0 = parts[0]->shape.back();
  const int64_t rows = last0 ? numel(parts[0]->shape) / last0 : 0;
  int64_t cols = 0;
  for (const Array* a : parts) cols += a->shape.back();
  Shape s = parts[0]->shape;
  s.back() = cols;
  Array out = make_array(s);
  int64_t off = 0;
  for (const Array* a : parts) {
    const int64_t c = a->shape.back();
    for (int64_t r = 0; r < rows; ++r) std::copy_n(a->values.data() + r * c, c, out.values.data() + r * cols + off);
    off += c;
  }
  return out;
}

class Recurrent : public Layer {
 public:
  Recurrent(RnnParams rp, Array kernel, Array rec, Array bias, Array rec_bias)
      : rp_(rp), kernel_(std::move(kernel)), rec_(std::move(rec)), bias_(std::move(bias)), rec_bias_(std::move(rec_bias)),
        kernel_w_(kernel_.values.data(), kernel_.shape[0], kernel_.shape[1]) {
    if (rp_.cell == Cell::kLSTM) rec_w_ = GemmWeights(rec_.values.data(), rec_.shape[0], rec_.shape[1]);
    // The packed copies are what gemm() reads: keep the shapes only (GRU and SimpleRNN read rec_).
    kernel_.values = {};
    if (rp_.cell == Cell::kLSTM) rec_.values = {};
  }

  int gates() const { return rp_.cell == Cell::kLSTM ? 4 : rp_.cell == Cell::kGRU ? 3 : 1; }
  int n_states() const { return rp_.cell == Cell::kLSTM ? 2 : 1; }
  std::vector<std::string> tensor_kwargs() const override { return {"initial_state"}; }

  std::vector<Array> apply(const std::vector<Array>& in, const Mask& mask) const override {
    const Array& x = in.at(0);
    if (x.shape.size() != 3) throw UsageError("recurrent layer expects (batch, time, features), got " + shape_str(x.shape));
    const int64_t B = x.shape[0], T = x.shape[1], D = x.shape[2], U = rp_.units, G = gates();
    if (D != kernel_.shape[0])
      throw UsageError("recurrent layer expects " + std::to_string(kernel_.shape[0]) + " features, got " + std::to_string(D));
    // Input projections x_t @ W + bias, to which h @ R is added in place. For a batch of 4 or more,
    // one step at a time into a block that stays in cache; for smaller batches (matrix-vector
    // products, which would stream W once per step) for every step in one GEMM, time-major (row
    // t * B + b). The rows of x are read in place in time-major order (no transposed copy).
    std::vector<const float*> rows(static_cast<size_t>(T * B));
    for (int64_t t = 0; t < T; ++t)
      for (int64_t b = 0; b < B; ++b) rows[t * B + b] = x.values.data() + (b * T + t) * D;
    const float* bias = bias_.values.empty() ? nullptr : bias_.values.data();
    const bool per_step = B >= 4;
    MatR xw(per_step ? B : T * B, G * U);
    const int64_t whole_row = 0;
    if (!per_step) gemm_rows(rows.data(), T * B, &whole_row, 1, D, kernel_w_, xw.data(), G * U, bias, false);
    MatR h = MatR::Zero(B, U), c = MatR::Zero(B, U);
    if (in.size() > 1) h = CMapR(in[1].values.data(), B, U);
    if (in.size() > 2 && rp_.cell == Cell::kLSTM) c = CMapR(in[2].values.data(), B, U);
    MatR out_prev = MatR::Zero(B, U);
    Array seq = rp_.return_sequences ? make_array({B, T, U}) : Array{};
    MatR hu(B, G * U), hn(B, U), cn(B, U);
    CMapR R(rec_.values.data(), U, G * U);
    using ArrMap = Eigen::Map<Eigen::ArrayXf>;
    for (int64_t step = 0; step < T; ++step) {
      const int64_t t = rp_.go_backwards ? T - 1 - step : step;
      if (per_step) gemm_rows(rows.data() + t * B, B, &whole_row, 1, D, kernel_w_, xw.data(), G * U, bias, false);
      MapR z(xw.data() + (per_step ? 0 : t * B * G * U), B, G * U);
      switch (rp_.cell) {
        case Cell::kLSTM: {  // gates stored as i, f, o, c~ (reordered at build)
          gemm(h.data(), B, U, rec_w_, z.data(), G * U, nullptr, /*accumulate=*/true);
          for (int64_t b = 0; b < B; ++b) {
            float* zr = &z(b, 0);
            apply_activation(rp_.rec_act, zr, 3 * U, 3 * U);  // i, f, o
            apply_activation(rp_.act, zr + 3 * U, U, U);      // c~
            ArrMap i(zr, U), f(zr + U, U), o(zr + 2 * U, U), g(zr + 3 * U, U);
            ArrMap cb(cn.data() + b * U, U), hb(hn.data() + b * U, U);
            cb = f * Eigen::Map<const Eigen::ArrayXf>(c.data() + b * U, U) + i * g;
            hb = cb;
            apply_activation(rp_.act, hb.data(), U, U);
            hb *= o;
          }
          break;
        }
        case Cell::kGRU: {
          if (rp_.reset_after) {
            hu.noalias() = h * R;
            if (!rec_bias_.values.empty()) hu.rowwise() += CRowMap(rec_bias_.values.data(), G * U);
          } else {
            hu.leftCols(2 * U).noalias() = h * R.leftCols(2 * U);
          }
          for (int64_t b = 0; b < B; ++b) {
            float* zr = &z(b, 0);
            const float* hr = hu.data() + b * G * U;
            for (int64_t j = 0; j < 2 * U; ++j) zr[j] += hr[j];
            apply_activation(rp_.rec_act, zr, 2 * U, 2 * U);  // z, r
          }
          if (rp_.reset_after) {
            for (int64_t b = 0; b < B; ++b) {
              float* zr = &z(b, 0);
              const float* hr = hu.data() + b * G * U;
              for (int64_t j = 0; j < U; ++j) zr[2 * U + j] += zr[U + j] * hr[2 * U + j];
            }
          } else {
            MatR rh(B, U);
            for (int64_t b = 0; b < B; ++b)
              for (int64_t j = 0; j < U; ++j) rh(b, j) = z(b, U + j) * h(b, j);
            z.rightCols(U).noalias() += rh * R.rightCols(U);
          }
          for (int64_t b = 0; b < B; ++b) {
            float* zr = &z(b, 0);
            apply_activation(rp_.act, zr + 2 * U, U, U);
            for (int64_t j = 0; j < U; ++j) hn(b, j) = zr[j] * h(b, j) + (1.f - zr[j]) * zr[2 * U + j];
          }
          break;
        }
        case Cell::kSimple: {
          z.noalias() += h * R;
          for (int64_t b = 0; b < B; ++b) apply_activation(rp_.act, &z(b, 0), U, U);
          hn = z;
          break;
        }
      }
      if (!mask) {  // every row keeps its new state: swap buffers (the cells overwrite hn and cn)
        h.swap(hn);
        if (rp_.cell == Cell::kLSTM) c.swap(cn);
        if (rp_.return_sequences)
          for (int64_t b = 0; b < B; ++b) std::copy_n(h.data() + b * U, U, seq.values.data() + (b * T + step) * U);
        continue;
      }
      for (int64_t b = 0; b < B; ++b) {
        const bool keep = (*mask)[b * T + t];
        if (keep) {
          h.row(b) = hn.row(b);
          if (rp_.cell == Cell::kLSTM) c.row(b) = cn.row(b);
          out_prev.row(b) = hn.row(b);
        }
        if (rp_.return_sequences) {
          float* dst = seq.values.data() + (b * T + step) * U;
          if (!keep && rp_.zero_output_for_mask) std::fill_n(dst, U, 0.f);
          else for (int64_t j = 0; j < U; ++j) dst[j] = out_prev(b, j);
        }
      }
    }
    if (!mask && T > 0) out_prev = h;  // the last output of every row
    std::vector<Array> outs;
    auto mat = [&](const MatR& m) {
      Array a = make_array({B, U});
      MapR(a.values.data(), B, U) = m;
      return a;
    };
    outs.push_back(rp_.return_sequences ? std::move(seq) : mat(out_prev));
    if (rp_.return_state) {
      outs.push_back(mat(h));
      if (rp_.cell == Cell::kLSTM) outs.push_back(mat(c));
    }
    return outs;
  }
  Mask output_mask(const std::vector<Array>&, const Mask& m, const std::vector<Array>&) const override {
    return rp_.return_sequences ? m : nullptr;
  }
  const RnnParams& params() const { return rp_; }

 private:
  RnnParams rp_;
  Array kernel_, rec_, bias_, rec_bias_;
  GemmWeights kernel_w_, rec_w_;  // packed for gemm(); rec_w_ for LSTM only (GRU and SimpleRNN use Eigen)
};

std::unique_ptr<Recurrent> make_rnn(const LayerParams& p, Cell cell, int flip_backwards) {
  const Config& c = p.config;
  RnnParams rp;
  rp.cell = cell;
  rp.units = c.int_or({"units", "output_dim"}, 0);
  rp.act = c.activation({"activation"}, p.dialect);
  rp.rec_act = parse_activation(c.str_or({"recurrent_activation", "inner_activation"},
                                         cell == Cell::kSimple ? "linear" : "sigmoid"),
                                p.dialect, p.name);
  rp.return_sequences = c.bool_or({"return_sequences"}, false);
  rp.return_state = c.bool_or({"return_state"}, false);
  rp.go_backwards = c.bool_or({"go_backwards"}, false) != (flip_backwards != 0);
  rp.zero_output_for_mask = c.bool_or({"zero_output_for_mask"}, false);
  rp.reset_after = c.bool_or({"reset_after"}, p.dialect == KerasDialect::kKeras3);
  const bool use_bias = c.bool_or({"use_bias", "bias"}, true);
  if (c.bool_or({"stateful"}, false)) {
    // Stateful layers start from zero states on a fresh model, which is what predict does.
  }
  const int G = cell == Cell::kLSTM ? 4 : cell == Cell::kGRU ? 3 : 1;
  std::vector<Array> w = p.weights;
  const size_t per_gate = cell == Cell::kLSTM ? 12 : cell == Cell::kGRU ? 9 : 0;
  if (per_gate && w.size() == per_gate) {
    // Keras 1: LSTM [W_i U_i b_i W_c U_c b_c W_f U_f b_f W_o U_o b_o]; GRU [W_z U_z b_z W_r U_r b_r W_h U_h b_h].
    std::vector<int> order = cell == Cell::kLSTM ? std::vector<int>{0, 2, 1, 3} : std::vector<int>{0, 1, 2};
    std::vector<const Array*> W, U, b;
    for (int g : order) {
      W.push_back(&w[g * 3]);
      U.push_back(&w[g * 3 + 1]);
      b.push_back(&w[g * 3 + 2]);
    }
    w = {concat_cols(W), concat_cols(U), concat_cols(b)};
  }
  const size_t n = use_bias ? 3 : 2;
  if (w.size() != n) p.bad("expected " + std::to_string(n) + " weight tensors, found " + std::to_string(w.size()));
  if (rp.units <= 0) rp.units = w[1].shape.at(0);
  const int64_t U = rp.units;
  if (w[0].shape.size() != 2 || w[0].shape[1] != G * U) p.bad("kernel has shape " + shape_str(w[0].shape));
  if (w[1].shape != Shape{U, G * U}) p.bad("recurrent kernel has shape " + shape_str(w[1].shape));
  Array bias, rec_bias;
  if (use_bias) {
    if (cell == Cell::kGRU && w[2].shape == Shape{2, G * U}) {
      rp.reset_after = true;
      bias = w[2];
      bias.shape = {G * U};
      bias.values.resize(static_cast<size_t>(G * U));
      rec_bias = make_array({G * U});
      std::copy_n(w[2].values.data() + G * U, G * U, rec_bias.values.data());
    } else if (w[2].values.size() == static_cast<size_t>(G * U)) {
      bias = w[2];
    } else {
      p.bad("bias has shape " + shape_str(w[2].shape));
    }
  }
  if (cell == Cell::kLSTM) {  // Keras gate order i, f, c~, o -> i, f, o, c~: one sigmoid pass over i, f, o
    for (Array* a : {&w[0], &w[1], &bias}) {
      if (a->values.empty()) continue;
      const int64_t rows = static_cast<int64_t>(a->values.size()) / (4 * U);
      for (int64_t r = 0; r < rows; ++r) {
        float* row = a->values.data() + r * 4 * U;
        std::rotate(row + 2 * U, row + 3 * U, row + 4 * U);
      }
    }
  }
  return std::make_unique<Recurrent>(rp, w[0], w[1], bias, rec_bias);
}

Cell cell_of(const std::string& cls) {
  if (cls == "LSTM" || cls == "CuDNNLSTM") return Cell::kLSTM;
  if (cls == "GRU" || cls == "CuDNNGRU") return Cell::kGRU;
  return Cell::kSimple;
}

bool is_rnn(const std::string& cls) {
  return cls == "LSTM" || cls == "GRU" || cls == "SimpleRNN";
}

class Bidirectional : public Layer {
 public:
  Bidirectional(std::unique_ptr<Recurrent> fw, std::unique_ptr<Recurrent> bw, std::string merge)
      : fw_(std::move(fw)), bw_(std::move(bw)), merge_(std::move(merge)) {}
  std::vector<Array> apply(const std::vector<Array>& in, const Mask& mask) const override {
    std::vector<Array> fin{in.at(0)}, bin{in.at(0)};
    if (in.size() > 1) {  // initial states: forward's then backward's
      const size_t half = (in.size() - 1) / 2;
      for (size_t i = 0; i < half; ++i) fin.push_back(in[1 + i]);
      for (size_t i = 0; i < half; ++i) bin.push_back(in[1 + half + i]);
    }
    std::vector<Array> f = fw_->apply(fin, mask), b = bw_->apply(bin, mask);
    if (fw_->params().return_sequences) {  // the backward sequence comes out reversed in time
      Array& y = b[0];
      const int64_t B = y.shape[0], T = y.shape[1], U = y.shape[2];
      Array r = make_array(y.shape);
      for (int64_t i = 0; i < B; ++i)
        for (int64_t t = 0; t < T; ++t)
          std::copy_n(y.values.data() + (i * T + T - 1 - t) * U, U, r.values.data() + (i * T + t) * U);
      y = std::move(r);
    }
    std::vector<Array> outs;
    if (merge_ == "none" || merge_.empty()) {
      outs.push_back(f[0]);
      outs.push_back(b[0]);
    } else if (merge_ == "concat") {
      outs.push_back(concat_cols({&f[0], &b[0]}));
    } else {
      Array y = f[0];
      for (size_t i = 0; i < y.values.size(); ++i) {
        const float a = f[0].values[i], c = b[0].values[i];
        y.values[i] = merge_ == "sum" ? a + c : merge_ == "mul" ? a * c : (a + c) * 0.5f;
      }
      outs.push_back(std::move(y));
    }
    for (size_t i = 1; i < f.size(); ++i) outs.push_back(f[i]);
    for (size_t i = 1; i < b.size(); ++i) outs.push_back(b[i]);
    return outs;
  }
  Mask output_mask(const std::vector<Array>& in, const Mask& m, const std::vector<Array>& out) const override {
    return fw_->output_mask(in, m, out);
  }

 private:
  std::unique_ptr<Recurrent> fw_, bw_;
  std::string merge_;
};

std::unique_ptr<Layer> make_bidirectional(const LayerParams& p) {
  auto [cls, cfg] = p.config.nested_layer("layer");
  if (!is_rnn(cls)) p.unsupported("Bidirectional over \"" + cls + "\"");
  std::string bcls = cls, bcfg = cfg;
  bool explicit_backward = p.config.has("backward_layer");
  if (explicit_backward) std::tie(bcls, bcfg) = p.config.nested_layer("backward_layer");
  if (p.weights.size() % 2 != 0) p.bad("Bidirectional has an odd number of weights");
  const size_t half = p.weights.size() / 2;
  LayerParams fp = p, bp = p;
  fp.class_name = cls;
  fp.config = Config(cfg, p.file, p.name + "/forward");
  fp.weights.assign(p.weights.begin(), p.weights.begin() + half);
  fp.weight_names.clear();
  bp.class_name = bcls;
  bp.config = Config(bcfg, p.file, p.name + "/backward");
  bp.weights.assign(p.weights.begin() + half, p.weights.end());
  bp.weight_names.clear();
  std::string merge = p.config.str_or({"merge_mode"}, "none");
  if (merge != "concat" && merge != "sum" && merge != "mul" && merge != "ave" && merge != "none")
    p.unsupported("merge_mode \"" + merge + "\"");
  auto fw = make_rnn(fp, cell_of(cls), 0);
  // Keras builds the backward copy with go_backwards flipped; an explicit backward_layer is used as is.
  auto bw = make_rnn(bp, cell_of(bcls), explicit_backward ? 0 : 1);
  return std::make_unique<Bidirectional>(std::move(fw), std::move(bw), merge);
}

}  // namespace

void register_recurrent_layers(Registry& r) {
  for (const char* n : {"LSTM"})
    r.add(n, [](const LayerParams& p) -> std::unique_ptr<Layer> { return make_rnn(p, Cell::kLSTM, 0); });
  for (const char* n : {"GRU"})
    r.add(n, [](const LayerParams& p) -> std::unique_ptr<Layer> { return make_rnn(p, Cell::kGRU, 0); });
  r.add("SimpleRNN", [](const LayerParams& p) -> std::unique_ptr<Layer> { return make_rnn(p, Cell::kSimple, 0); });
  r.add("Bidirectional", make_bidirectional);
}

}  // namespace kmodel::engine
