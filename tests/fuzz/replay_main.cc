// Replays fuzz corpora through a harness once: `<harness>_replay DIR|FILE...`.
// Used by the fuzz-regress suite, and to reproduce a crash file by hand.

#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <vector>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size);

namespace {
void run_file(const std::filesystem::path& p, size_t& n) {
    std::ifstream f(p, std::ios::binary);
    std::vector<char> bytes((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
    // Exact-size heap copy so ASan catches any read past the input.
    std::vector<uint8_t> exact(bytes.begin(), bytes.end());
    LLVMFuzzerTestOneInput(exact.data(), exact.size());
    n++;
}
}  // namespace

int main(int argc, char** argv) {
    size_t n = 0;
    for (int i = 1; i < argc; i++) {
        const std::filesystem::path p(argv[i]);
        if (std::filesystem::is_directory(p)) {
            for (const auto& e : std::filesystem::recursive_directory_iterator(p))
                if (e.is_regular_file()) run_file(e.path(), n);
        } else {
            run_file(p, n);
        }
    }
    if (n == 0) {
        std::fprintf(stderr, "replay: no input files\n");
        return 1;
    }
    std::printf("replay: %zu inputs, no crash\n", n);
    return 0;
}
