"""Builds the extension modules of `mtif` with CMake, for `pip install ./python`.

The package metadata is in pyproject.toml. The extensions mtif._core (and
mtif._torch, the network engine, when LibTorch is there) are CMake targets of
the repository (python/CMakeLists.txt); this file configures the repository for
the interpreter that runs it, builds those targets and copies them into the
package. Environment:
  MTIF_WITH_TORCH=ON|OFF   the network engine (default: ON when Debian's libtorch-dev is installed)
  MTIF_CMAKE_BUILD_DIR=DIR the CMake build folder (default: inside setuptools' build_temp)
"""
import glob
import os
import shutil
import subprocess
import sys
import sysconfig
from pathlib import Path

from setuptools import Extension, setup
from setuptools.command.build_ext import build_ext

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent  # the repository: its CMakeLists.txt builds mtif_core and the extensions


def torch_found() -> bool:
    return bool(glob.glob("/usr/lib/*/cmake/Torch/TorchConfig.cmake") or glob.glob("/usr/share/cmake/Torch/TorchConfig.cmake"))


class CMakeBuild(build_ext):
    """Runs CMake once for every extension and copies each built module into place."""

    def run(self):
        with_torch = os.environ.get("MTIF_WITH_TORCH", "ON" if torch_found() else "OFF").upper()
        build_dir = Path(os.environ.get("MTIF_CMAKE_BUILD_DIR") or Path(self.build_temp).resolve() / "cmake")
        configure = [
            "cmake", "-S", str(ROOT), "-B", str(build_dir), "-DCMAKE_BUILD_TYPE=Release",
            f"-DPython_EXECUTABLE={sys.executable}", "-DMTIF_WITH_PYTHON=ON", f"-DMTIF_WITH_TORCH={with_torch}",
            # The module needs neither the program's extras nor the tests.
            "-DMTIF_BUILD_TESTS=OFF", "-DMTIF_WITH_REPORT=OFF", "-DMTIF_WITH_MPI=OFF",
        ]
        if shutil.which("ccache"):
            configure.append("-DCMAKE_CXX_COMPILER_LAUNCHER=ccache")
        targets = ["mtif_python"] + (["mtif_python_torch"] if with_torch == "ON" else [])
        subprocess.run(configure, check=True)
        subprocess.run(["cmake", "--build", str(build_dir), "-j", str(os.cpu_count() or 1), "--target", *targets],
                       check=True)
        built = build_dir / "python" / "mtif"
        suffix = sysconfig.get_config_var("EXT_SUFFIX")
        for ext in self.extensions:
            if ext.name == "mtif._torch" and with_torch != "ON":
                continue
            source = built / (ext.name.split(".")[-1] + suffix)
            if not source.exists():
                raise RuntimeError(f"CMake did not build {source}")
            target = Path(self.get_ext_fullpath(ext.name))
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(source, target)


# sources=[]: CMake compiles them; these entries only name the modules to install.
setup(ext_modules=[Extension("mtif._core", sources=[]), Extension("mtif._torch", sources=[])],
      cmdclass={"build_ext": CMakeBuild})
