// Progress bar: silent without a stream, drawn with an ETA on an injected
// stream, finished on one line, and safe under OpenMP.
#include "mtif/progress.hpp"

#include <gtest/gtest.h>

#include <sstream>

namespace mtif {
namespace {

TEST(Progress, NoStreamPrintsNothingAndCounts) {
  set_progress_stream(nullptr);
  Progress p("rows scored", 10);  // default stream: none
  p.add(4);
  p.add(6);
  EXPECT_EQ(p.done(), 10);
}

TEST(Progress, DrawsBarWithEtaThenFinishesTheLine) {
  std::ostringstream out;
  {
    Progress p("refits", 4, &out, /*delay_s=*/0.0);
    p.add();
    EXPECT_NE(out.str().find("refits ["), std::string::npos) << out.str();
    EXPECT_NE(out.str().find(" 25% 1/4 ETA "), std::string::npos) << out.str();
    p.add(3);
  }
  const std::string s = out.str();
  EXPECT_NE(s.find("100% 4/4 in "), std::string::npos) << s;
  EXPECT_EQ(s.back(), '\n');
  EXPECT_EQ(s.find('\n'), s.size() - 1) << "one line, redrawn with \\r";
}

TEST(Progress, ShortJobsLeaveNoTrace) {
  std::ostringstream out;
  {
    Progress p("rows scored", 100, &out, /*delay_s=*/60.0);
    p.add(100);
  }
  EXPECT_EQ(out.str(), "");
}

TEST(Progress, CountsFromManyThreads) {
  std::ostringstream out;
  Progress p("work", 10000, &out, 0.0);
#pragma omp parallel for
  for (int i = 0; i < 10000; ++i) p.add();
  EXPECT_EQ(p.done(), 10000);
}

}  // namespace
}  // namespace mtif
