#include <fmt/format.h>

#include <filesystem>

#include "commands.hpp"
#include "mtif/image_data.hpp"
#include "mtif/synthetic.hpp"
#include "options.hpp"

namespace mtif::cli {

namespace {
struct ImagesOptions {
  std::string source = "fashion-mnist", data_dir, cast = "one-vs-rest", out_dir = "images";
  OneVsRestOptions one_vs_rest;
  GroupOptions grouped;
  double digits_test_fraction = 0.2;
  // Validation: a seeded share of the TRAIN images (never the test images) is set aside
  // before casting, so valid.csv shares no image with train.csv or test.csv.
  double valid_fraction = 0.0;
  Index valid_pos = 100, valid_neg = 100, valid_rows_per_task = 0;
  OutputOptions out;  // --quiet / --verbose
};

ImageSplit read_source(const ImagesOptions& o) {
  const std::string dir = o.data_dir.empty() ? "data/" + o.source : o.data_dir;
  if (!std::filesystem::exists(dir))
    throw DataError(fmt::format("{}: no such folder; run scripts/fetch_data.sh to fetch the images", dir));
  if (o.source == "fashion-mnist") return read_fashion_mnist(dir);
  return split_images(read_mnist_digits(dir), o.digits_test_fraction, o.one_vs_rest.seed);
}
// Casts `images` with the options of `o`; the test part is drawn with the given test sizes.
TrainTest cast_images(const ImagesOptions& o, const ImageSplit& images, Index test_pos, Index test_neg,
                      Index test_rows_per_task) {
  if (o.cast == "one-vs-rest") {
    OneVsRestOptions options = o.one_vs_rest;
    options.test_pos = test_pos;
    options.test_neg = test_neg;
    return one_vs_rest_tasks(images, options);
  }
  if (o.source != "fashion-mnist") throw std::invalid_argument("--cast grouped is defined for fashion-mnist");
  GroupOptions options = o.grouped;
  options.pool = o.one_vs_rest.pool;
  options.seed = o.one_vs_rest.seed;
  options.test_per_task = test_rows_per_task;
  std::vector<ClassGroup> groups;  // "bags" has one class: a constant target, left out
  for (const auto& g : fashion_mnist_groups())
    if (g.classes.size() > 1) groups.push_back(g);
  return grouped_tasks(images, groups, options);
}

}  // namespace

void register_images(CLI::App& app) {
  auto o = std::make_shared<ImagesOptions>();
  auto* cmd = app.add_subcommand("images", "cast Fashion-MNIST or MNIST digits into multitask CSV files (train.csv, test.csv)");
  cmd->add_option("--source", o->source, "image set (fetched by scripts/fetch_data.sh)")
      ->check(CLI::IsMember({"fashion-mnist", "mnist-digits"}))->capture_default_str();
  cmd->add_option("--data-dir", o->data_dir, "folder of the image files (default: data/SOURCE)");
  cmd->add_option("--cast", o->cast, "one binary task per class, or Fashion-MNIST's groups (tops, bottoms, footwear) "
                                     "as multi-class tasks")
      ->check(CLI::IsMember({"one-vs-rest", "grouped"}))->capture_default_str();
  cmd->add_option("--train-pos", o->one_vs_rest.train_pos, "one-vs-rest: positives per task in train")->capture_default_str();
  cmd->add_option("--train-neg", o->one_vs_rest.train_neg, "one-vs-rest: negatives per task in train")->capture_default_str();
  cmd->add_option("--test-pos", o->one_vs_rest.test_pos, "one-vs-rest: positives per task in test")->capture_default_str();
  cmd->add_option("--test-neg", o->one_vs_rest.test_neg, "one-vs-rest: negatives per task in test")->capture_default_str();
  cmd->add_flag("--disjoint", o->one_vs_rest.disjoint, "one-vs-rest: every image in at most one task");
  cmd->add_option("--rows-per-task", o->grouped.train_per_task, "grouped: train rows per task (0: all)")->capture_default_str();
  cmd->add_option("--test-rows-per-task", o->grouped.test_per_task, "grouped: test rows per task (0: all)")->capture_default_str();
  cmd->add_option("--valid-fraction", o->valid_fraction,
                  "share of the TRAIN images set aside (seeded) for valid.csv; 0: no valid.csv")
      ->check(CLI::Range(0.0, 0.9))->capture_default_str();
  cmd->add_option("--valid-pos", o->valid_pos, "one-vs-rest: positives per task in valid")->capture_default_str();
  cmd->add_option("--valid-neg", o->valid_neg, "one-vs-rest: negatives per task in valid")->capture_default_str();
  cmd->add_option("--valid-rows-per-task", o->valid_rows_per_task, "grouped: valid rows per task (0: all)")
      ->capture_default_str();
  cmd->add_option("--pool", o->one_vs_rest.pool, "average pooling factor: 1 (28x28), 2 (14x14), 4 (7x7)")
      ->check(CLI::IsMember({1, 2, 4}))->capture_default_str();
  cmd->add_option("--seed", o->one_vs_rest.seed, "sampling seed")->capture_default_str();
  cmd->add_option("--out-dir", o->out_dir, "folder to write into")->capture_default_str();
  add_verbosity_options(cmd, o->out);
  cmd->footer("Pixels are scaled to [0,1]; features px0..px{d-1}; target y (1 = the task's class for one-vs-rest).\n"
              "Example:\n  mtif images --source fashion-mnist --pool 4 --train-pos 50 --train-neg 50 --out-dir data/fm\n"
              "  mtif images --pool 4 --valid-fraction 0.2 --valid-pos 500 --valid-neg 500 --out-dir data/fmv  # + valid.csv\n"
              "  mtif influence --model mlp --loss logistic --train data/fm/train.csv --test data/fm/test.csv --out s.csv");
  cmd->callback([o] {
    begin_command(o->out);
    ImageSplit images = read_source(*o);
    const bool with_valid = o->valid_fraction > 0.0;
    Dataset valid;
    if (with_valid) {
      // Stream 7 of the seed: independent of the draws the casts make.
      ImageSplit pools = split_images(images.train, o->valid_fraction, o->one_vs_rest.seed * 1000003ULL + 7);
      images.train = pools.train;
      valid = cast_images(*o, ImageSplit{pools.train, pools.test}, o->valid_pos, o->valid_neg,
                          o->valid_rows_per_task).test;
    }
    const TrainTest data = cast_images(*o, images, o->one_vs_rest.test_pos, o->one_vs_rest.test_neg,
                                       o->grouped.test_per_task);
    std::filesystem::create_directories(o->out_dir);
    write_dataset_csv(data.train, o->out_dir + "/train.csv");
    write_dataset_csv(data.test, o->out_dir + "/test.csv");
    if (with_valid) write_dataset_csv(valid, o->out_dir + "/valid.csv");
    info(o->out.quiet, fmt::format("wrote {0}/train.csv ({1} rows){8} and {0}/test.csv ({2} rows): {3} tasks, {4} features "
                               "({5}, {6}, seed {7})",
                               o->out_dir, data.train.num_rows(), data.test.num_rows(), data.train.num_tasks(),
                               data.train.num_features(), o->source, o->cast, o->one_vs_rest.seed,
                               with_valid ? fmt::format(", {}/valid.csv ({} rows)", o->out_dir, valid.num_rows())
                                          : std::string()));
  });
}

}  // namespace mtif::cli
