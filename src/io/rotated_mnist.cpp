#include "mtif/rotated_mnist.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <numeric>
#include <random>
#include <stdexcept>

namespace mtif {

ImageSet rotate_images(const ImageSet& images, double degrees) {
  ImageSet out = images;
  const int h = images.height, w = images.width;
  const double a = degrees * M_PI / 180.0, c = std::cos(a), s = std::sin(a);
  const double cy = (h - 1) / 2.0, cx = (w - 1) / 2.0;
  // Inverse mapping: for each output pixel, rotate its position back by -a to
  // find where it comes from in the source, and interpolate the four source
  // pixels around that point (bilinear). Rows grow downwards, so a
  // counter-clockwise turn on screen is x' = c x + s y, y' = -s x + c y.
  auto pixel = [&](const float* img, int r, int q) -> double {
    return (r < 0 || r >= h || q < 0 || q >= w) ? 0.0 : img[r * w + q];
  };
  for (Index i = 0; i < images.size(); ++i) {
    const float* src = images.image(i);
    float* dst = out.pixels.data() + i * images.pixels_per_image();
    for (int r = 0; r < h; ++r)
      for (int q = 0; q < w; ++q) {
        const double dx = q - cx, dy = r - cy;
        const double sx = c * dx - s * dy + cx, sy = s * dx + c * dy + cy;  // source position
        const int x0 = int(std::floor(sx)), y0 = int(std::floor(sy));
        const double fx = sx - x0, fy = sy - y0;
        const double v = (1 - fy) * ((1 - fx) * pixel(src, y0, x0) + fx * pixel(src, y0, x0 + 1)) +
                         fy * ((1 - fx) * pixel(src, y0 + 1, x0) + fx * pixel(src, y0 + 1, x0 + 1));
        dst[r * w + q] = float(v);
      }
  }
  out.source = fmt::format("{} rotated {} degrees", images.source, degrees);
  return out;
}

TrainTest rotated_mnist_tasks(const ImageSet& digits, const RotatedMnistOptions& o) {
  const Index T = Index(o.angles.size());
  if (T == 0) throw std::invalid_argument("rotated MNIST: no angles");
  if (!(o.train_fraction > 0 && o.train_fraction <= 1)) throw std::invalid_argument("rotated MNIST: train fraction must be in (0, 1]");
  const Index pool_size = digits.size() / T;
  if (pool_size <= o.test_per_task) throw std::invalid_argument(fmt::format(
      "rotated MNIST: {} images give {} per task, not more than the {} test rows asked for", digits.size(), pool_size,
      o.test_per_task));
  std::vector<Index> order(digits.size());
  std::iota(order.begin(), order.end(), 0);
  std::mt19937_64 rng(o.seed);
  std::shuffle(order.begin(), order.end(), rng);
  const Index n_train = std::max<Index>(1, Index(std::llround(o.train_fraction * double(pool_size - o.test_per_task))));

  RawRows train, test;
  for (RawRows* raw : {&train, &test}) {
    for (Index t = 0; t < T; ++t) raw->task_names.push_back(fmt::format("rot{:g}", o.angles[t]));
  }
  for (Index t = 0; t < T; ++t) {
    // This task's pool of images, rotated and pooled.
    ImageSet pool;
    pool.height = digits.height;
    pool.width = digits.width;
    pool.class_names = digits.class_names;
    pool.source = digits.source;
    for (Index k = 0; k < pool_size; ++k) {
      const Index i = order[t * pool_size + k];
      pool.pixels.insert(pool.pixels.end(), digits.image(i), digits.image(i) + digits.pixels_per_image());
      pool.labels.push_back(digits.labels[i]);
    }
    ImageSet img = rotate_images(pool, o.angles[t]);
    if (o.pool > 1) img = average_pool(img, o.pool);
    const Index d = img.pixels_per_image();
    if (train.feature_names.empty())
      for (Index p = 0; p < d; ++p) {
        train.feature_names.push_back(fmt::format("px{}", p));
        test.feature_names.push_back(fmt::format("px{}", p));
      }
    for (Index k = 0; k < o.test_per_task + n_train; ++k) {
      RawRows& raw = k < o.test_per_task ? test : train;
      raw.values.insert(raw.values.end(), img.image(k), img.image(k) + d);
      raw.y.push_back(img.labels[k]);
      raw.task.push_back(int(t));
    }
  }
  const std::string source = fmt::format("rotated MNIST ({}, seed {}, train fraction {:g})", digits.source, o.seed,
                                         o.train_fraction);
  return {make_dataset(train, source), make_dataset(test, source)};
}

}  // namespace mtif
