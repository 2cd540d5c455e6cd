// The main() of every gtest binary that has none of its own (meson links it
// as a library, so a test file with its own main() keeps it). Like
// gtest_main, plus: a run in which every selected test was skipped (a
// missing tool, no root, no EAL) exits 77, so meson reports SKIP, not OK —
// a test that could not run is never counted as passed. A partly skipped
// run says how many were skipped on stderr.

#include <gtest/gtest.h>

#include <cstdio>

int main(int argc, char** argv) {
    testing::InitGoogleTest(&argc, argv);
    const int rc = RUN_ALL_TESTS();
    const testing::UnitTest& u = *testing::UnitTest::GetInstance();
    const int skipped = u.skipped_test_count();
    if (rc == 0 && skipped > 0 && skipped == u.test_to_run_count()) {
        std::fprintf(stderr, "every test (%d) skipped: SKIP\n", skipped);
        return 77;
    }
    if (skipped > 0) std::fprintf(stderr, "%d of %d tests skipped\n", skipped, u.test_to_run_count());
    return rc;
}
