// Out-of-core pieces that the CLI test (tests/cli/streaming.sh) does not reach
// directly: the --memory parser, and the fit from Gram sums against fit_linear.
#include <gtest/gtest.h>

#include <filesystem>

#include "mtif/output.hpp"
#include "mtif/streaming.hpp"
#include "mtif/synthetic.hpp"

namespace mtif {
namespace {

TEST(Streaming, ParsesMemorySizes) {
  EXPECT_EQ(parse_memory_size("2G"), size_t(2) << 30);
  EXPECT_EQ(parse_memory_size("512M"), size_t(512) << 20);
  EXPECT_EQ(parse_memory_size("64k"), size_t(64) << 10);
  EXPECT_EQ(parse_memory_size("1.5G"), size_t(3) << 29);
  EXPECT_EQ(parse_memory_size("2GiB"), size_t(2) << 30);
  EXPECT_EQ(parse_memory_size("1000000"), size_t(1000000));
  for (const char* bad : {"", "abc", "0", "-1G", "10X", "2GG", "G", "nan", "1e30"})
    EXPECT_THROW(parse_memory_size(bad), std::invalid_argument) << bad;
}

// The Gram-sum fit equals the in-memory Newton fit, and its block Hessian the in-memory one.
TEST(Streaming, FitFromGramSumsMatchesInMemoryFit) {
  SyntheticConfig config;
  config.tasks = 5;
  config.features = 6;
  config.train_rows = {30, 70, 12, 50, 41};
  config.seed = 3;
  SyntheticData s = generate_synthetic(config);
  const auto dir = std::filesystem::temp_directory_path() / "mtif_streaming_test";
  std::filesystem::create_directories(dir);
  const std::string csv = (dir / "train.csv").string();
  write_dataset_csv(s.data.train, csv);
  RowSource source;
  source.csv_path = csv;
  GramSums sums = accumulate_gram(source, 17, nullptr);  // several chunks of 17 rows
  ASSERT_EQ(sums.task_names, s.data.train.task_names);
  ASSERT_EQ(sums.feature_names, s.data.train.feature_names);
  LinearConfig lc;
  lc.lambda_task = 0.3;
  lc.lambda_shared = 0.7;
  LinearModel streamed = fit_from_gram(sums, lc);
  LinearModel memory = fit_linear(s.data.train, lc);
  EXPECT_LT((streamed.gamma - memory.gamma).norm(), 1e-12 * memory.gamma.norm());
  for (int k = 0; k < config.tasks; ++k)
    EXPECT_LT((streamed.theta[k] - memory.theta[k]).norm(), 1e-12 * (1 + memory.theta[k].norm()));
  EXPECT_NEAR(streamed.report.objective, memory.report.objective, 1e-12 * memory.report.objective);
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace mtif
