// Times onnxruntime-node (CPU, one intra-op and one inter-op thread) on MODEL.onnx with input
// X.bin of SHAPE; prints wall and process-CPU mean/min in ms and writes the output to OUT.bin.
// Usage: node ort_bench.js MODEL.onnx X.bin SHAPE(comma list) RUNS OUT.bin
const fs = require('fs');
const ort = require('onnxruntime-node');
(async () => {
  const [model, xbin, shapeStr, runsStr, outBin] = process.argv.slice(2);
  const shape = shapeStr.split(',').map(Number);
  const buf = fs.readFileSync(xbin);
  const x = new Float32Array(buf.buffer, buf.byteOffset, buf.byteLength / 4);
  const session = await ort.InferenceSession.create(model, {
    intraOpNumThreads: 1, interOpNumThreads: 1, executionMode: 'sequential', graphOptimizationLevel: 'all',
  });
  const feeds = { x: new ort.Tensor('float32', x, shape) };
  let out = await session.run(feeds);  // warm-up
  const runs = Number(runsStr);
  let total = 0, best = 1e30, cpuTotal = 0, cpuBest = 1e30;
  for (let i = 0; i < runs; ++i) {
    const c0 = process.cpuUsage();
    const t0 = process.hrtime.bigint();
    out = await session.run(feeds);
    const ms = Number(process.hrtime.bigint() - t0) / 1e6;
    const c = process.cpuUsage(c0);
    const cpu = (c.user + c.system) / 1e3;  // process CPU time: immune to preemption on a loaded machine
    total += ms;
    best = Math.min(best, ms);
    cpuTotal += cpu;
    cpuBest = Math.min(cpuBest, cpu);
  }
  fs.writeFileSync(outBin, Buffer.from(out.y.data.buffer));
  console.log(`ort: ${runs} runs, mean ${total / runs} ms, min ${best} ms; cpu mean ${cpuTotal / runs} ms, cpu min ${cpuBest} ms`);
})();
