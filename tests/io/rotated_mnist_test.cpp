// Bilinear rotation and the Rotated MNIST cast.
#include <gtest/gtest.h>

#include "mtif/rotated_mnist.hpp"

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

}  // namespace
}  // namespace mtif
