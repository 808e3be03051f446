// write_shortest must give the characters of std::to_chars for every double:
// outside scripts diff score files across versions, and the streaming and
// in-memory writers must agree byte for byte.
#include <gtest/gtest.h>

#include <charconv>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <limits>
#include <random>
#include <string>
#include <vector>

#include "mtif/number_text.hpp"

namespace mtif {
namespace {

std::string library_text(double v) {
  char text[64];
  return std::string(text, std::to_chars(text, text + sizeof text, v).ptr);
}

std::string our_text(double v) {
  char text[kShortestDoubleRoom];
  return std::string(text, write_shortest(text, v));
}

double from_bits(std::uint64_t bits) {
  double v;
  std::memcpy(&v, &bits, sizeof v);
  return v;
}

std::uint64_t bits_of(double v) {
  std::uint64_t bits;
  std::memcpy(&bits, &v, sizeof bits);
  return bits;
}

TEST(WriteShortest, EdgeValuesMatchTheLibrary) {
  const double inf = std::numeric_limits<double>::infinity();
  std::vector<double> values = {0.0, -0.0, 1.0, -1.0, 0.1, 0.5, 2.5, 10.0, 100.0, 123.0, 1e-5, 1e-4, 1.5e-4,
                                123456.0, 1234567.0, 1e15, 1e16, 1e17, 1e21, 1e22, 1e23, 9.999999999999999e22,
                                std::pow(2.0, 70), 1e-300, 1e-99, 1e-100, 1e100, 1e99,
                                std::numeric_limits<double>::max(), std::numeric_limits<double>::min(),
                                std::numeric_limits<double>::denorm_min(), 4.9406564584124654e-324,
                                2.2250738585072009e-308, 0.30000000000000004, 1.0 / 3.0, 2.0 / 3.0, inf, -inf,
                                std::numeric_limits<double>::quiet_NaN()};
  for (int p = -320; p <= 308; ++p) {  // every power of ten and its neighbours
    const double ten = std::pow(10.0, p);
    values.insert(values.end(), {ten, std::nextafter(ten, 0.0), std::nextafter(ten, inf), -ten, 1.5 * ten, 9.5 * ten});
  }
  for (double v : values) EXPECT_EQ(our_text(v), library_text(v)) << "bits " << std::hex << bits_of(v);
}

// Uniform bit patterns reach every exponent; normal draws at score-like
// scales are what the writer meets. Every text reads back as the same double.
TEST(WriteShortest, RandomDoublesMatchTheLibraryAndReadBack) {
  std::mt19937_64 rng(20261208);
  std::normal_distribution<double> normal(0.0, 1.0);
  std::uniform_int_distribution<int> scale(-12, 6);
  int mismatches = 0;
  for (int i = 0; i < 1000000; ++i) {
    const double v = i % 2 ? from_bits(rng()) : normal(rng) * std::pow(10.0, scale(rng));
    if (std::isnan(v)) continue;
    const std::string ours = our_text(v);
    if (ours != library_text(v) && ++mismatches <= 5) ADD_FAILURE() << ours << " vs " << library_text(v);
    double back = 0;
    std::from_chars(ours.data(), ours.data() + ours.size(), back);
    if (back != v && ++mismatches <= 5) ADD_FAILURE() << ours << " reads back as " << library_text(back);
  }
  EXPECT_EQ(mismatches, 0);
}

}  // namespace
}  // namespace mtif
