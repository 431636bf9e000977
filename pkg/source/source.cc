// SPDX-License-Identifier: Apache-2.0
#include "pkg/source/source.h"

namespace rebootd::source {

Source::~Source() = default;

}  // namespace rebootd::source
