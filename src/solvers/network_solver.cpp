#include "mtif/network_solver.hpp"

#include <fmt/format.h>

#include <stdexcept>

#include "mtif/block_schur_solver.hpp"
#include "mtif/iterative_solvers.hpp"
#include "mtif/mlp_ekfac.hpp"

namespace mtif {

NetworkSolver make_network_solver(const MlpModel& model, const Dataset& train, const NetworkSolverOptions& o) {
  NetworkSolver b;
  if (o.solver == "ekfac") {
    b.solver = std::make_unique<MlpEkfacSolver>(model, train, o.damping);
    return b;
  }
  if (o.solver != "exact" && o.solver != "cg" && o.solver != "lissa")
    throw std::invalid_argument("unknown solver '" + o.solver + "' (expected exact, cg, lissa or ekfac)");
  b.curvature = std::make_unique<MlpCurvature>(model, train, parse_curvature(o.curvature), o.damping);
  if (o.solver == "exact") {
    if (model.shared_size() > 20000)
      throw std::invalid_argument(
          fmt::format("--solver exact forms the {0} x {0} shared block: use cg or ekfac", model.shared_size()));
    b.solver = std::make_unique<BlockSchurSolver>(exact_block_hessian(*b.curvature));
  } else if (o.solver == "cg") {
    b.solver = std::make_unique<CgSolver>(*b.curvature, CgOptions{o.cg_iterations, o.cg_tolerance});
  } else {
    LissaOptions lissa;
    lissa.scale = o.lissa_scale;
    lissa.depth = o.lissa_depth;
    b.solver = std::make_unique<LissaSolver>(*b.curvature, lissa);
  }
  return b;
}

}  // namespace mtif
