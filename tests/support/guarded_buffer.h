#pragma once
// A copy of some bytes that ends exactly on a PROT_NONE page, so reading one
// byte past the end crashes the test (picohttpparser's trick). Test-only.

#include <sys/mman.h>
#include <unistd.h>

#include <cstddef>
#include <cstdlib>
#include <cstring>
#include <string_view>

namespace sipedge::test {

class GuardedBuffer {
  public:
    explicit GuardedBuffer(std::string_view bytes) { assign(bytes); }
    GuardedBuffer(const GuardedBuffer&) = delete;
    GuardedBuffer& operator=(const GuardedBuffer&) = delete;
    ~GuardedBuffer() { release(); }

    void assign(std::string_view bytes) {
        release();
        const size_t page = size_t(sysconf(_SC_PAGESIZE));
        const size_t data_pages = (bytes.size() + page - 1) / page;
        map_len_ = (data_pages + 1) * page;
        void* m = mmap(nullptr, map_len_, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
        if (m == MAP_FAILED) std::abort();
        map_ = static_cast<char*>(m);
        if (mprotect(map_ + data_pages * page, page, PROT_NONE) != 0) std::abort();
        data_ = map_ + data_pages * page - bytes.size();
        if (!bytes.empty()) std::memcpy(data_, bytes.data(), bytes.size());
        size_ = bytes.size();
    }

    const char* data() const { return data_; }
    size_t size() const { return size_; }
    std::string_view view() const { return {data_, size_}; }

  private:
    void release() {
        if (map_) munmap(map_, map_len_);
        map_ = nullptr;
    }
    char* map_ = nullptr;
    size_t map_len_ = 0;
    char* data_ = nullptr;
    size_t size_ = 0;
};

}  // namespace sipedge::test
