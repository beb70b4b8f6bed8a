// Builds Keras-compatible models in TensorFlow.js (pure JS CPU backend) with seeded random weights and
// inputs, runs them, and writes one JSON per case: topology (model.toJSON), weights per layer in
// Keras order, inputs and tfjs's outputs. make_h5.py turns each into a Keras H5 for kmodel predict.
// Layers tfjs lacks (causal Conv1D, GRU reset_after=true, Subtract, Cropping1D, MultiHeadAttention)
// are covered by reference loops in tests/engine/ and by ref_layers.py.
// Usage: node gen.js OUTDIR [CASE]
const fs = require('fs');
const path = require('path');
const tf = require('@tensorflow/tfjs');

let seed = 12345;
function rand() {  // mulberry32
  seed |= 0; seed = (seed + 0x6D2B79F5) | 0;
  let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
  t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
  return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
}
function randTensor(shape, lo = -1, hi = 1) {
  const n = shape.reduce((a, b) => a * b, 1);
  const v = new Float32Array(n);
  for (let i = 0; i < n; ++i) v[i] = lo + (hi - lo) * rand();
  return tf.tensor(v, shape);
}
function randInts(shape, hi) {
  const n = shape.reduce((a, b) => a * b, 1);
  const v = new Float32Array(n);
  for (let i = 0; i < n; ++i) v[i] = Math.floor(rand() * hi);
  return tf.tensor(v, shape);
}

const L = tf.layers;
const cases = [];
function seqCase(name, inputShape, layers, opts = {}) { cases.push({ name, kind: 'seq', inputShape, layers, ...opts }); }
function funCase(name, build, opts = {}) { cases.push({ name, kind: 'fun', build, ...opts }); }

// --- core
for (const act of ['linear', 'relu', 'sigmoid', 'hardSigmoid', 'tanh', 'softmax', 'softplus', 'softsign', 'selu', 'elu', 'swish', 'relu6', 'mish', 'gelu'])
  seqCase(`dense_${act}`, [6], () => [L.dense({ units: 5, activation: act, inputShape: [6] })]);
seqCase('dense_nobias_3d', [3, 4], () => [L.dense({ units: 2, useBias: false, inputShape: [3, 4] })]);
seqCase('mlp_dropout', [8], () => [L.dense({ units: 16, activation: 'relu', inputShape: [8] }), L.dropout({ rate: 0.5 }), L.dense({ units: 3 }), L.activation({ activation: 'softmax' })]);
seqCase('flatten_reshape_permute', [2, 3, 4], () => [L.permute({ dims: [3, 1, 2], inputShape: [2, 3, 4] }), L.reshape({ targetShape: [6, 4] }), L.flatten(), L.repeatVector({ n: 3 })]);
seqCase('adv_activations', [10], () => [L.leakyReLU({ alpha: 0.2, inputShape: [10] }), L.elu(), L.thresholdedReLU({ theta: 0.1 }), L.reLU({ maxValue: 0.8 }), L.softmax()]);
seqCase('prelu', [4, 3], () => [L.prelu({ inputShape: [4, 3], sharedAxes: [1] })]);
seqCase('embedding', [5], () => [L.embedding({ inputDim: 10, outputDim: 4, inputLength: 5, inputShape: [5] }), L.flatten()], { intInputs: 10 });
seqCase('batchnorm', [4, 3], () => [L.batchNormalization({ inputShape: [4, 3], epsilon: 0.01 })], { positiveNames: ['moving_variance'] });
// BatchNormalization on a non-last axis: tfjs 4.22 computes it wrongly; ref_layers.py checks it.
seqCase('layernorm', [3, 5], () => [L.layerNormalization({ inputShape: [3, 5] })]);
// --- conv
seqCase('conv1d_valid', [9, 3], () => [L.conv1d({ filters: 4, kernelSize: 3, inputShape: [9, 3] })]);
seqCase('conv1d_same_stride_dil', [9, 3], () => [L.conv1d({ filters: 4, kernelSize: 2, padding: 'same', dilationRate: 2, inputShape: [9, 3], activation: 'relu' })]);
seqCase('conv2d_valid', [7, 6, 3], () => [L.conv2d({ filters: 5, kernelSize: [3, 2], inputShape: [7, 6, 3] })]);
seqCase('conv2d_same_s2', [7, 6, 3], () => [L.conv2d({ filters: 5, kernelSize: 3, strides: 2, padding: 'same', inputShape: [7, 6, 3] })]);
seqCase('conv2d_dilated', [8, 8, 2], () => [L.conv2d({ filters: 3, kernelSize: 3, dilationRate: 2, padding: 'same', inputShape: [8, 8, 2] })]);
seqCase('conv2d_channels_first', [3, 6, 5], () => [L.conv2d({ filters: 4, kernelSize: 3, dataFormat: 'channelsFirst', inputShape: [3, 6, 5] })]);
seqCase('conv2d_transpose_valid', [4, 5, 3], () => [L.conv2dTranspose({ filters: 2, kernelSize: 3, inputShape: [4, 5, 3] })]);
seqCase('conv2d_transpose_same_s2', [4, 5, 3], () => [L.conv2dTranspose({ filters: 2, kernelSize: 3, strides: 2, padding: 'same', inputShape: [4, 5, 3] })]);
seqCase('separable_conv2d', [6, 6, 3], () => [L.separableConv2d({ filters: 4, kernelSize: 3, depthMultiplier: 2, padding: 'same', inputShape: [6, 6, 3] })]);
seqCase('depthwise_conv2d', [6, 6, 3], () => [L.depthwiseConv2d({ kernelSize: 3, depthMultiplier: 2, strides: 2, inputShape: [6, 6, 3] })]);
seqCase('conv3d', [5, 5, 4, 2], () => [L.conv3d({ filters: 3, kernelSize: 2, inputShape: [5, 5, 4, 2] })]);
seqCase('cnn_mnist_like', [12, 12, 1], () => [L.conv2d({ filters: 4, kernelSize: 3, activation: 'relu', inputShape: [12, 12, 1] }), L.maxPooling2d({ poolSize: 2 }), L.conv2d({ filters: 6, kernelSize: 3, activation: 'relu' }), L.flatten(), L.dense({ units: 5, activation: 'softmax' })]);
// --- pooling / reshaping
seqCase('maxpool2d_same', [5, 5, 2], () => [L.maxPooling2d({ poolSize: 2, padding: 'same', inputShape: [5, 5, 2] })]);
seqCase('avgpool2d_same', [5, 5, 2], () => [L.averagePooling2d({ poolSize: 3, strides: 2, padding: 'same', inputShape: [5, 5, 2] })]);
seqCase('pool1d', [9, 2], () => [L.maxPooling1d({ poolSize: 3, inputShape: [9, 2] }), L.averagePooling1d({ poolSize: 2, padding: 'same' })]);
seqCase('pool3d', [4, 4, 4, 2], () => [L.maxPooling3d({ poolSize: 2, inputShape: [4, 4, 4, 2] })]);
seqCase('avgpool3d', [4, 4, 4, 2], () => [L.averagePooling3d({ poolSize: 2, inputShape: [4, 4, 4, 2] })]);
seqCase('global_pools_2d', [4, 5, 3], () => [L.globalAveragePooling2d({ inputShape: [4, 5, 3] })]);
seqCase('global_max_2d', [4, 5, 3], () => [L.globalMaxPooling2d({ inputShape: [4, 5, 3] })]);
seqCase('global_pools_1d', [6, 3], () => [L.globalMaxPooling1d({ inputShape: [6, 3] })]);
seqCase('global_avg_1d', [6, 3], () => [L.globalAveragePooling1d({ inputShape: [6, 3] })]);
seqCase('pad_crop_up2d', [4, 5, 2], () => [L.zeroPadding2d({ padding: [[1, 2], [0, 1]], inputShape: [4, 5, 2] }), L.cropping2D({ cropping: [[1, 0], [2, 1]] }), L.upSampling2d({ size: [2, 3] })]);
// --- recurrent
seqCase('lstm_last', [6, 3], () => [L.lstm({ units: 4, inputShape: [6, 3] })]);
seqCase('lstm_seq_hard', [6, 3], () => [L.lstm({ units: 4, returnSequences: true, recurrentActivation: 'hardSigmoid', inputShape: [6, 3] })]);
seqCase('lstm_backwards', [5, 2], () => [L.lstm({ units: 3, goBackwards: true, returnSequences: true, inputShape: [5, 2] })]);
seqCase('gru_reset_before', [6, 3], () => [L.gru({ units: 4, resetAfter: false, inputShape: [6, 3] })]);
seqCase('simple_rnn', [6, 3], () => [L.simpleRNN({ units: 5, returnSequences: true, inputShape: [6, 3] })]);
for (const mode of ['concat', 'sum', 'mul', 'ave'])
  seqCase(`bidirectional_${mode}`, [5, 3], () => [L.bidirectional({ layer: L.lstm({ units: 3, returnSequences: true }), mergeMode: mode, inputShape: [5, 3] })]);
seqCase('bidirectional_gru_last', [5, 3], () => [L.bidirectional({ layer: L.gru({ units: 3 }), inputShape: [5, 3] })]);
seqCase('time_distributed_dense', [4, 3], () => [L.timeDistributed({ layer: L.dense({ units: 2, activation: 'tanh' }), inputShape: [4, 3] })]);
seqCase('masking_lstm', [5, 2], () => [L.masking({ maskValue: 0, inputShape: [5, 2] }), L.lstm({ units: 3 })], { zeroSteps: true });
seqCase('embedding_mask_gru', [6], () => [L.embedding({ inputDim: 5, outputDim: 3, maskZero: true, inputShape: [6] }), L.gru({ units: 2 })], { intInputs: 5 });
seqCase('convlstm2d_seq_same', [4, 6, 5, 2], () => [L.convLstm2d({ filters: 3, kernelSize: 3, padding: 'same', returnSequences: true, inputShape: [4, 6, 5, 2] })]);
seqCase('convlstm2d_last_strided', [3, 7, 6, 2], () => [L.convLstm2d({ filters: 2, kernelSize: [3, 2], strides: 2, inputShape: [3, 7, 6, 2] }), L.flatten(), L.dense({ units: 3 })]);
seqCase('convlstm2d_backwards_dilated', [4, 7, 7, 1], () => [L.convLstm2d({ filters: 2, kernelSize: 2, dilationRate: 2, padding: 'same', goBackwards: true, returnSequences: true, inputShape: [4, 7, 7, 1] })]);
// --- functional merges
for (const m of ['add', 'multiply', 'average', 'maximum', 'minimum', 'concatenate'])
  funCase(`merge_${m}`, () => {
    const a = tf.input({ shape: [4] }), b = tf.input({ shape: [4] });
    const da = L.dense({ units: 3 }).apply(a), db = L.dense({ units: 3 }).apply(b);
    const merged = L[m]().apply([da, db]);
    return tf.model({ inputs: [a, b], outputs: [merged, da] });
  });
funCase('dot_normalize', () => {
  const a = tf.input({ shape: [4] }), b = tf.input({ shape: [4] });
  return tf.model({ inputs: [a, b], outputs: L.dot({ axes: 1, normalize: true }).apply([a, b]) });
});
funCase('dot_3d', () => {
  const a = tf.input({ shape: [3, 4] }), b = tf.input({ shape: [5, 4] });
  return tf.model({ inputs: [a, b], outputs: L.dot({ axes: [2, 2] }).apply([a, b]) });
});
funCase('shared_layer', () => {
  const a = tf.input({ shape: [3] }), b = tf.input({ shape: [3] });
  const shared = L.dense({ units: 2, activation: 'tanh' });
  const out = L.concatenate().apply([shared.apply(a), shared.apply(b)]);
  return tf.model({ inputs: [a, b], outputs: out });
});
funCase('nested_sequential', () => {
  const inner = tf.sequential({ layers: [L.dense({ units: 4, activation: 'relu', inputShape: [3] }), L.dense({ units: 2 })] });
  const a = tf.input({ shape: [3] });
  return tf.model({ inputs: a, outputs: L.activation({ activation: 'sigmoid' }).apply(inner.apply(a)) });
});

function build(c) {
  if (c.kind === 'seq') return tf.sequential({ layers: c.layers() });
  return c.build();
}

function setRandomWeights(model, positiveNames) {
  for (const layer of model.layers) {
    const ws = layer.weights;
    if (!ws.length) continue;
    const vals = ws.map((w) => {
      const positive = positiveNames.some((p) => w.originalName.includes(p));
      return positive ? randTensor(w.shape, 0.5, 1.5) : randTensor(w.shape, -0.6, 0.6);
    });
    layer.setWeights(vals);
  }
}

function layerWeights(layer) {
  // Keras legacy order: trainable first, then non-trainable; nested models flatten their layers.
  const ws = [...layer.trainableWeights, ...layer.nonTrainableWeights];
  return ws.map((w) => ({ name: w.originalName, shape: w.shape, values: Array.from(w.read().dataSync()) }));
}

const out = process.argv[2];
fs.mkdirSync(out, { recursive: true });
const only = process.argv[3];
let count = 0;
for (const c of cases) {
  if (only && c.name !== only) continue;
  try {
    runCase(c);
    ++count;
  } catch (e) {
    console.error(`case ${c.name}: tfjs cannot run it: ${e.message}`);
    process.exitCode = 1;
  }
}
console.log(`tfjs cases written: ${count}`);

function runCase(c) {
  const model = build(c);
  setRandomWeights(model, c.positiveNames || []);
  const inputs = model.inputs.map((inp) => {
    const shape = [3, ...inp.shape.slice(1)];
    if (c.intInputs) return randInts(shape, c.intInputs);
    let x = randTensor(shape);
    if (c.zeroSteps) {  // zero out some whole time steps so masks matter
      const v = x.arraySync();
      v[0][1] = v[0][1].map(() => 0); v[1][4] = v[1][4].map(() => 0); v[2][0] = v[2][0].map(() => 0);
      x = tf.tensor(v);
    }
    return x;
  });
  let y = model.predict(inputs.length === 1 ? inputs[0] : inputs);
  if (!Array.isArray(y)) y = [y];
  const record = {
    name: c.name,
    topology: model.toJSON(null, false),
    layers: model.layers.map((l) => ({ name: l.name, weights: layerWeights(l) })),
    inputs: inputs.map((x, i) => ({ name: model.inputNames[i], shape: x.shape, values: Array.from(x.dataSync()) })),
    outputs: y.map((t) => ({ shape: t.shape, values: Array.from(t.dataSync()) })),
  };
  fs.writeFileSync(path.join(out, c.name + '.json'), JSON.stringify(record));
}
