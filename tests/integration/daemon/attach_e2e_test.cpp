// SPDX-License-Identifier: Apache-2.0
// (issue 5: filled in by its owner)
#include "tests/integration/daemon/daemon_fixture.h"
