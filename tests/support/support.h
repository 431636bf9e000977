// SPDX-License-Identifier: Apache-2.0
// Small helpers shared by tests.
#pragma once

#include <string>

namespace rebootd::testing {

// Directory of the source tree / build tree (from the ctest environment; falls back to cwd).
std::string SourceDir();
std::string BinaryDir();
// A fresh, empty temporary directory under $TMPDIR; removed by the caller if wanted.
std::string MakeTempDir(const std::string& prefix = "rebootd-test");

}  // namespace rebootd::testing
