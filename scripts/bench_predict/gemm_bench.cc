// Plain Eigen GEMM of the Dense benchmark's shape (batch x 512) * (512 x 512) + bias, single thread:
// the ceiling kmodel's Dense layer is compared with. Prints "eigen: mean X ms, min Y ms".
// Build: g++ -O3 -DNDEBUG -march=native -I/usr/include/eigen3 gemm_bench.cc (kmodel builds for the
// machine's CPU too, so both use AVX2/AVX-512 where present).
#include <Eigen/Core>

#include <chrono>
#include <cstdio>
#include <cstdlib>

int main(int argc, char** argv) {
  const int batch = argc > 1 ? std::atoi(argv[1]) : 64, runs = argc > 2 ? std::atoi(argv[2]) : 200;
  using M = Eigen::Matrix<float, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;
  M x = M::Random(batch, 512), w = M::Random(512, 512), y(batch, 512);
  Eigen::Matrix<float, 1, Eigen::Dynamic> b = Eigen::Matrix<float, 1, Eigen::Dynamic>::Random(512);
  double total = 0, best = 1e30;
  for (int i = 0; i <= runs; ++i) {
    auto t0 = std::chrono::steady_clock::now();
    y.noalias() = x * w;
    y.rowwise() += b;
    double ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
    if (i == 0) continue;  // warm-up
    total += ms;
    if (ms < best) best = ms;
  }
  std::printf("eigen: %d runs, mean %g ms, min %g ms (checksum %g)\n", runs, total / runs, best, static_cast<double>(y.sum()));
  return 0;
}
