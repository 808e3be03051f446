// Dataset helpers: grouping rows by task, the file-order map, the intercept
// column and dropping rows.
#include <gtest/gtest.h>

#include <algorithm>
#include <numeric>

#include "mtif/dataset.hpp"
#include "support/test_data.hpp"

namespace mtif {
namespace {

// Rows in file order: task ids 1,0,2,0,1 with y = file row and x = (10*row, -row).
RawRows five_rows() {
  RawRows r;
  r.feature_names = {"x0", "x1"};
  r.task_names = {"a", "b", "c"};
  r.task = {1, 0, 2, 0, 1};
  for (int i = 0; i < 5; ++i) {
    r.y.push_back(i);
    r.values.push_back(10.0 * i);
    r.values.push_back(-i);
  }
  return r;
}

TEST(MakeDataset, GroupsRowsByTaskKeepingFileOrderInsideATask) {
  Dataset d = make_dataset(five_rows(), "mem");
  EXPECT_EQ(d.source, "mem");
  EXPECT_EQ(d.feature_names, (std::vector<std::string>{"x0", "x1"}));
  EXPECT_EQ(d.task_names, (std::vector<std::string>{"a", "b", "c"}));
  EXPECT_EQ(d.num_tasks(), 3);
  EXPECT_EQ(d.num_rows(), 5);
  EXPECT_EQ(d.num_features(), 2);
  EXPECT_EQ(d.task_begin, (std::vector<Index>{0, 2, 4, 5}));
  EXPECT_EQ(d.file_row, (std::vector<Index>{1, 3, 0, 4, 2}));
  for (Index i = 0; i < d.num_rows(); ++i) {
    const double fr = static_cast<double>(d.file_row[i]);
    EXPECT_EQ(d.y(i), fr);
    EXPECT_EQ(d.X(i, 0), 10 * fr);
    EXPECT_EQ(d.X(i, 1), -fr);
  }
  EXPECT_EQ(d.task_rows(0), 2);
  EXPECT_EQ(d.task_rows(1), 2);
  EXPECT_EQ(d.task_rows(2), 1);
  EXPECT_EQ(d.task_X(1).rows(), 2);
  EXPECT_EQ(d.task_X(1)(0, 0), 0.0);   // file row 0
  EXPECT_EQ(d.task_X(1)(1, 0), 40.0);  // file row 4
  EXPECT_EQ(d.task_y(2)(0), 2.0);
}

TEST(MakeDataset, TaskOfRowAndInverseMap) {
  Dataset d = make_dataset(five_rows(), "mem");
  std::vector<int> tasks;
  for (Index i = 0; i < d.num_rows(); ++i) tasks.push_back(d.task_of_row(i));
  EXPECT_EQ(tasks, (std::vector<int>{0, 0, 1, 1, 2}));
  std::vector<Index> inv = d.stored_row_of_file_row();
  EXPECT_EQ(inv, (std::vector<Index>{2, 0, 4, 1, 3}));
  for (Index f = 0; f < d.num_rows(); ++f) EXPECT_EQ(d.file_row[inv[f]], f);
}

TEST(MakeDataset, TaskWithoutRowsGetsAnEmptyBlock) {
  RawRows r = five_rows();
  r.task_names.push_back("d");  // no rows
  r.task_names.insert(r.task_names.begin(), "empty");
  for (int& t : r.task) ++t;  // ids 1..3 now; 0 and 4 are empty
  Dataset d = make_dataset(r, "mem");
  EXPECT_EQ(d.task_begin, (std::vector<Index>{0, 0, 2, 4, 5, 5}));
  EXPECT_EQ(d.task_rows(0), 0);
  EXPECT_EQ(d.task_rows(4), 0);
  EXPECT_EQ(d.task_of_row(0), 1);
  EXPECT_EQ(d.task_of_row(4), 3);
}

TEST(MakeDataset, NoRows) {
  RawRows r;
  r.feature_names = {"x"};
  r.task_names = {"a"};
  Dataset d = make_dataset(r, "none");
  EXPECT_EQ(d.num_rows(), 0);
  EXPECT_EQ(d.num_features(), 1);
  EXPECT_EQ(d.task_begin, (std::vector<Index>{0, 0}));
  EXPECT_TRUE(d.stored_row_of_file_row().empty());
}

TEST(AddIntercept, AppendsAOnesColumnNamedIntercept) {
  Dataset d = make_dataset(five_rows(), "mem");
  const MatrixXd before = d.X;
  add_intercept(d);
  ASSERT_EQ(d.num_features(), 3);
  EXPECT_EQ(d.feature_names, (std::vector<std::string>{"x0", "x1", "(intercept)"}));
  EXPECT_EQ(d.X.leftCols(2), before);
  EXPECT_TRUE((d.X.col(2).array() == 1.0).all());
  EXPECT_EQ(d.num_rows(), 5);
  EXPECT_EQ(d.task_begin, (std::vector<Index>{0, 2, 4, 5}));
}

TEST(DropRows, RemovesListedStoredRowsAndRenumbersFileRows) {
  Dataset d = make_dataset(five_rows(), "mem");
  // stored rows: 0->file 1 (a), 1->file 3 (a), 2->file 0 (b), 3->file 4 (b), 4->file 2 (c)
  Dataset out = drop_rows(d, {3, 0});  // unsorted
  EXPECT_EQ(out.num_rows(), 3);
  EXPECT_EQ(out.task_names, d.task_names);
  EXPECT_EQ(out.feature_names, d.feature_names);
  EXPECT_EQ(out.source, d.source);
  EXPECT_EQ(out.task_begin, (std::vector<Index>{0, 1, 2, 3}));
  // Kept original file rows 3, 0, 2 become 2, 0, 1: the same order, numbered afresh.
  EXPECT_EQ(out.file_row, (std::vector<Index>{2, 0, 1}));
  const std::vector<double> original{3, 0, 2};
  for (Index i = 0; i < out.num_rows(); ++i) {
    EXPECT_EQ(out.y(i), original[i]);
    EXPECT_EQ(out.X(i, 0), 10.0 * original[i]);
  }
  std::vector<Index> inverse = out.stored_row_of_file_row();
  for (Index f = 0; f < out.num_rows(); ++f) EXPECT_EQ(out.file_row[inverse[f]], f);
  EXPECT_THROW(drop_rows(d, {7}), std::out_of_range);
  // The original is untouched.
  EXPECT_EQ(d.num_rows(), 5);
}

TEST(DropRows, ATaskCanEndUpEmpty) {
  Dataset d = make_dataset(five_rows(), "mem");
  Dataset out = drop_rows(d, {4});  // the only row of task c
  EXPECT_EQ(out.num_tasks(), 3);
  EXPECT_EQ(out.task_begin, (std::vector<Index>{0, 2, 4, 4}));
  EXPECT_EQ(out.task_rows(2), 0);
  Dataset none = drop_rows(d, {0, 1, 2, 3, 4});
  EXPECT_EQ(none.num_rows(), 0);
  EXPECT_EQ(none.task_begin, (std::vector<Index>{0, 0, 0, 0}));
}

TEST(DropRows, NothingDroppedIsACopyAndDuplicatesCountOnce) {
  Dataset d = make_dataset(five_rows(), "mem");
  Dataset same = drop_rows(d, {});
  EXPECT_EQ(same.X, d.X);
  EXPECT_EQ(same.y, d.y);
  EXPECT_EQ(same.file_row, d.file_row);
  EXPECT_EQ(same.task_begin, d.task_begin);
  Dataset dup = drop_rows(d, {1, 1, 1});
  EXPECT_EQ(dup.num_rows(), 4);
}

TEST(Synthetic, RowsAreGroupedAndFileRowIsAPermutation) {
  TrainTest tt = test::make_data(4, 3, {5, 9, 1, 7}, 6);
  for (const Dataset* d : {&tt.train, &tt.test}) {
    EXPECT_EQ(d->num_tasks(), 4);
    EXPECT_EQ(static_cast<Index>(d->file_row.size()), d->num_rows());
    std::vector<Index> sorted = d->file_row;
    std::sort(sorted.begin(), sorted.end());
    std::vector<Index> iota(sorted.size());
    std::iota(iota.begin(), iota.end(), 0);
    EXPECT_EQ(sorted, iota);
    EXPECT_EQ(d->task_begin.front(), 0);
    EXPECT_EQ(d->task_begin.back(), d->num_rows());
    EXPECT_TRUE(std::is_sorted(d->task_begin.begin(), d->task_begin.end()));
  }
  EXPECT_EQ(tt.train.task_rows(0), 5);
  EXPECT_EQ(tt.train.task_rows(1), 9);
  EXPECT_EQ(tt.train.task_rows(2), 1);
  EXPECT_EQ(tt.train.task_rows(3), 7);
  EXPECT_EQ(tt.test.task_names, tt.train.task_names);
}

}  // namespace
}  // namespace mtif
