// Bilinear rotation and the Rotated MNIST cast.
#include <gtest/gtest.h>

#include "mtif/rotated_mnist.hpp"

#include <cmath>
#include <set>

namespace mtif {
namespace {

ImageSet ramp(int n, int side) {
  ImageSet s;
  s.height = s.width = side;
  s.class_names = {"0", "1", "2"};
  for (int i = 0; i < n; ++i) {
    for (int p = 0; p < side * side; ++p) s.pixels.push_back(float((p * 7 + i * 3) % 11) / 10.0f);
    s.labels.push_back(i % 3);
  }
  return s;
}

TEST(RotatedMnist, ZeroAndFullTurnsKeepTheImage) {
  ImageSet a = ramp(2, 8);
  EXPECT_EQ(rotate_images(a, 0).pixels, a.pixels);
  ImageSet full = rotate_images(a, 360);
  for (size_t i = 0; i < a.pixels.size(); ++i) EXPECT_NEAR(full.pixels[i], a.pixels[i], 1e-5);
}

TEST(RotatedMnist, QuarterTurnIsCounterClockwise) {
  ImageSet a = ramp(1, 5);
  ImageSet r = rotate_images(a, 90);
  // Counter-clockwise: the top row, read right to left, becomes the left column, top to bottom.
  for (int k = 0; k < 5; ++k) EXPECT_NEAR(r.pixels[k * 5 + 0], a.pixels[0 * 5 + (4 - k)], 1e-5);
}

TEST(RotatedMnist, HalfPixelMovesInterpolate) {
  // A 45 degree turn interpolates between pixels: nothing leaves [0, 1].
  ImageSet a = ramp(3, 6);
  ImageSet r = rotate_images(a, 45);
  for (float v : r.pixels) {
    EXPECT_GE(v, 0.0f);
    EXPECT_LE(v, 1.0f);
  }
  EXPECT_NE(r.pixels, a.pixels);
}

TEST(RotatedMnist, TasksAreDisjointPoolsWithTheAskedSizes) {
  ImageSet digits = ramp(600, 8);
  RotatedMnistOptions o;
  o.angles = {0, 30, 60};
  o.test_per_task = 50;
  o.train_fraction = 0.1;
  o.pool = 2;
  TrainTest d = rotated_mnist_tasks(digits, o);
  ASSERT_EQ(d.train.num_tasks(), 3);
  EXPECT_EQ(d.train.task_names[1], "rot30");
  EXPECT_EQ(d.train.num_features(), 16);
  for (int t = 0; t < 3; ++t) {
    EXPECT_EQ(d.test.task_rows(t), 50);
    EXPECT_EQ(d.train.task_rows(t), 15);  // 10% of the 150 left in a pool of 200
  }
  o.angles = {0, 15, 30, 45, 60, 75, 90, 105, 120, 135, 150, 165, 180};
  o.test_per_task = 50;
  EXPECT_THROW(rotated_mnist_tasks(digits, o), std::invalid_argument);  // 46 per task < 50 test rows
}

// The regression cast: one task per class, each row a distinct image of that
// class turned by its own angle, y = the angle.
TEST(RotatedMnistAngles, EachRowIsADistinctImageOfItsClassTurnedByItsTarget) {
  ImageSet digits = ramp(90, 6);  // 30 images per class
  // ramp repeats every 11 images: make each image distinct, so a row names its source.
  for (Index i = 0; i < digits.size(); ++i)
    for (int p = 0; p < 36; ++p) digits.pixels[i * 36 + p] = float((p * 7 + i * 13) % 97) / 96.0f;
  RotatedAngleOptions o;
  o.max_degrees = 30;
  o.test_per_task = 10;
  o.train_fraction = 0.5;
  o.pool = 1;
  o.seed = 4;
  TrainTest d = rotated_mnist_angle_tasks(digits, o);
  ASSERT_EQ(d.train.num_tasks(), 3);
  EXPECT_EQ(d.train.task_names[2], "digit2");
  for (int c = 0; c < 3; ++c) {
    EXPECT_EQ(d.test.task_rows(c), 10);
    EXPECT_EQ(d.train.task_rows(c), 10);  // half of the 20 left after the test rows
    std::set<Index> used;                 // source images of this task, over train and test
    for (const Dataset* part : {&d.train, &d.test})
      for (Index r = part->task_begin[c]; r < part->task_begin[c + 1]; ++r) {
        const double angle = part->y(r);
        EXPECT_LE(std::abs(angle), 30.0);
        Index source = -1;
        for (Index i = 0; i < digits.size(); ++i) {
          if (digits.labels[i] != c) continue;
          ImageSet one;
          one.height = one.width = 6;
          one.pixels.assign(digits.image(i), digits.image(i) + 36);
          one.labels = {c};
          ImageSet turned = rotate_images(one, angle);
          bool same = true;
          for (int p = 0; p < 36; ++p) same = same && std::abs(turned.pixels[p] - part->X(r, p)) < 1e-6;
          if (same) source = i;
        }
        ASSERT_GE(source, 0) << "row " << r << " is no image of class " << c << " turned by " << angle;
        EXPECT_TRUE(used.insert(source).second) << "image " << source << " used twice";
      }
  }
  // Angles are spread over the range, not one value.
  EXPECT_GT(d.train.y.maxCoeff() - d.train.y.minCoeff(), 30.0);
  EXPECT_EQ(rotated_mnist_angle_tasks(digits, o).train.y, d.train.y);  // seeded
}

TEST(RotatedMnistAngles, RefusesTooFewImagesAndBadRanges) {
  ImageSet digits = ramp(30, 4);
  RotatedAngleOptions o;
  o.test_per_task = 10;  // each class has exactly 10
  EXPECT_THROW(rotated_mnist_angle_tasks(digits, o), std::invalid_argument);
  o.test_per_task = 2;
  o.max_degrees = 0;
  EXPECT_THROW(rotated_mnist_angle_tasks(digits, o), std::invalid_argument);
}

}  // namespace
}  // namespace mtif
