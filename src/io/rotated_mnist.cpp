#include "mtif/rotated_mnist.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <numeric>
#include <random>
#include <stdexcept>

namespace mtif {

namespace {
// One h x w image rotated counter-clockwise by `degrees` about its centre, by
// bilinear resampling; pixels that come from outside the image are 0.
void rotate_image(const float* src, float* dst, int h, int w, double degrees) {
  const double a = degrees * M_PI / 180.0, c = std::cos(a), s = std::sin(a);
  const double cy = (h - 1) / 2.0, cx = (w - 1) / 2.0;
  // Inverse mapping: for each output pixel, rotate its position back by -a to
  // find where it comes from in the source, and interpolate the four source
  // pixels around that point (bilinear). Rows grow downwards, so a
  // counter-clockwise turn on screen is x' = c x + s y, y' = -s x + c y.
  auto pixel = [&](int r, int q) -> double { return (r < 0 || r >= h || q < 0 || q >= w) ? 0.0 : src[r * w + q]; };
  for (int r = 0; r < h; ++r)
    for (int q = 0; q < w; ++q) {
      const double dx = q - cx, dy = r - cy;
      const double sx = c * dx - s * dy + cx, sy = s * dx + c * dy + cy;  // source position
      const int x0 = int(std::floor(sx)), y0 = int(std::floor(sy));
      const double fx = sx - x0, fy = sy - y0;
      const double v = (1 - fy) * ((1 - fx) * pixel(y0, x0) + fx * pixel(y0, x0 + 1)) +
                       fy * ((1 - fx) * pixel(y0 + 1, x0) + fx * pixel(y0 + 1, x0 + 1));
      dst[r * w + q] = float(v);
    }
}
}  // namespace

ImageSet rotate_images(const ImageSet& images, double degrees) {
  ImageSet out = images;
  for (Index i = 0; i < images.size(); ++i)
    rotate_image(images.image(i), out.pixels.data() + i * images.pixels_per_image(), images.height, images.width,
                 degrees);
  out.source = fmt::format("{} rotated {} degrees", images.source, degrees);
  return out;
}

namespace {
// Appends a task's (rotated, pooled) images as rows: the first test_rows to
// `test`, the rest to `train`, with targets y[k]; names the features once.
void append_task_rows(const ImageSet& img, Index test_rows, const std::vector<double>& y, int task, RawRows& train,
                      RawRows& test) {
  const Index d = img.pixels_per_image();
  if (train.feature_names.empty())
    for (Index p = 0; p < d; ++p) {
      train.feature_names.push_back(fmt::format("px{}", p));
      test.feature_names.push_back(fmt::format("px{}", p));
    }
  for (Index k = 0; k < Index(y.size()); ++k) {
    RawRows& raw = k < test_rows ? test : train;
    raw.values.insert(raw.values.end(), img.image(k), img.image(k) + d);
    raw.y.push_back(y[k]);
    raw.task.push_back(task);
  }
}
}  // namespace

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
    const std::vector<double> digit(img.labels.begin(), img.labels.begin() + o.test_per_task + n_train);
    append_task_rows(img, o.test_per_task, digit, int(t), train, test);
  }
  const std::string source = fmt::format("rotated MNIST ({}, seed {}, train fraction {:g})", digits.source, o.seed,
                                         o.train_fraction);
  return {make_dataset(train, source), make_dataset(test, source)};
}

}  // namespace mtif

namespace mtif {

TrainTest rotated_mnist_angle_tasks(const ImageSet& digits, const RotatedAngleOptions& o) {
  if (!(o.max_degrees > 0 && o.max_degrees <= 180)) throw std::invalid_argument("rotated MNIST angles: the largest angle must be in (0, 180]");
  if (!(o.train_fraction > 0 && o.train_fraction <= 1)) throw std::invalid_argument("rotated MNIST angles: train fraction must be in (0, 1]");
  const int classes = int(digits.class_names.size());
  std::vector<std::vector<Index>> of_class(classes);
  for (Index i = 0; i < digits.size(); ++i) of_class[digits.labels[i]].push_back(i);
  std::mt19937_64 rng(o.seed);
  std::uniform_real_distribution<double> angle(-o.max_degrees, o.max_degrees);
  RawRows train, test;
  for (RawRows* raw : {&train, &test})
    for (int c = 0; c < classes; ++c) raw->task_names.push_back("digit" + digits.class_names[c]);
  std::vector<float> rotated(digits.pixels_per_image());
  for (int c = 0; c < classes; ++c) {
    std::vector<Index>& pool = of_class[c];
    if (Index(pool.size()) <= o.test_per_task) throw std::invalid_argument(fmt::format(
        "rotated MNIST angles: class {} has {} images, not more than the {} test rows asked for",
        digits.class_names[c], pool.size(), o.test_per_task));
    std::shuffle(pool.begin(), pool.end(), rng);
    const Index n_train = std::max<Index>(1, Index(std::llround(o.train_fraction * double(Index(pool.size()) - o.test_per_task))));
    // Rotate the rows this task uses, each by its own angle, then pool.
    ImageSet img;
    img.height = digits.height;
    img.width = digits.width;
    img.class_names = digits.class_names;
    std::vector<double> degrees;
    for (Index k = 0; k < o.test_per_task + n_train; ++k) {
      degrees.push_back(angle(rng));
      rotate_image(digits.image(pool[k]), rotated.data(), digits.height, digits.width, degrees.back());
      img.pixels.insert(img.pixels.end(), rotated.begin(), rotated.end());
      img.labels.push_back(c);
    }
    if (o.pool > 1) img = average_pool(img, o.pool);
    append_task_rows(img, o.test_per_task, degrees, c, train, test);
  }
  const std::string source = fmt::format("rotated MNIST angles ({}, uniform in +-{:g} degrees, seed {}, train fraction {:g})",
                                         digits.source, o.max_degrees, o.seed, o.train_fraction);
  return {make_dataset(train, source), make_dataset(test, source)};
}

}  // namespace mtif
