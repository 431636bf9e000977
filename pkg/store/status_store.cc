// SPDX-License-Identifier: Apache-2.0
#include "pkg/store/status_store.h"

namespace rebootd::store {

StatusStore::~StatusStore() = default;

}  // namespace rebootd::store
