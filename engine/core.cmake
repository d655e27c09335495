# SPDX-License-Identifier: Apache-2.0
# mydocker::engine (the core: records, lifecycle, LocalDaemon) is defined here.
