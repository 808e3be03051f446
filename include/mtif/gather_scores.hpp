// Collecting the influence scores of training rows split across MPI ranks.
#pragma once

#include "mtif/linear_influence.hpp"
#include "mtif/mpi_world.hpp"

namespace mtif {

// Every rank passes the scores of its rows (row_range of `total_rows`); rank 0
// gets the scores of all rows in file order, exactly as a one-process run
// would hold them; the other ranks get `local` back unchanged. `with_parts`
// (the task and shared parts were kept) must be the same on every rank.
InfluenceScores gather_scores(const MpiWorld& world, InfluenceScores local, Index total_rows, bool with_parts);

}  // namespace mtif
