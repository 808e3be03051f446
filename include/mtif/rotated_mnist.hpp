// Rotated MNIST (the VMTL benchmark setting): several domains that share one
// label space, one task per rotation angle, classification of the digit,
// little training data per task; and its regression form, predicting each
// image's rotation angle, one task per digit class.
#pragma once

#include <cstdint>
#include <vector>

#include "mtif/image_data.hpp"

namespace mtif {

// Every image rotated counter-clockwise by `degrees` about its centre, by
// bilinear resampling; pixels that come from outside the image are 0.
ImageSet rotate_images(const ImageSet& images, double degrees);

struct RotatedMnistOptions {
  std::vector<double> angles{0, 15, 30, 45, 60, 75};
  double train_fraction = 0.1;  // share of each task's pool used for training (VMTL: 0.05 / 0.1 / 0.2)
  Index test_per_task = 200;
  int pool = 4;                 // average pooling after rotating (4: 7x7, 2: 14x14, 1: 28x28)
  std::uint64_t seed = 0;
};

// The digits are shuffled (seeded) and dealt into one disjoint pool per
// angle, so no image appears in two tasks; each pool gives test_per_task test
// rows and train_fraction of the rest as training rows. Tasks are named
// "rot0", "rot15", ...; y = the digit; features px0.. as in image_data.hpp.
TrainTest rotated_mnist_tasks(const ImageSet& digits, const RotatedMnistOptions& options);

struct RotatedAngleOptions {
  double max_degrees = 45;      // every image turned by an angle drawn uniformly from [-max, max]
  double train_fraction = 0.1;  // share of each class's images (after the test rows) used for training
  Index test_per_task = 200;
  int pool = 4;                 // average pooling after rotating
  std::uint64_t seed = 0;
};

// The regression benchmark: one task per digit class ("digit0", ...), each of
// its images rotated by its own random angle, y = that angle in degrees
// (counter-clockwise positive). Per class, the images are shuffled (seeded):
// the first test_per_task are test rows, train_fraction of the rest are
// training rows. (With one task per angle the angle would be constant within
// a task, hence tasks by digit here.)
TrainTest rotated_mnist_angle_tasks(const ImageSet& digits, const RotatedAngleOptions& options);

}  // namespace mtif
