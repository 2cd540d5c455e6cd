#include "stream/msg_pool.h"

namespace sipedge::stream {

MsgPool::MsgPool(const Config& c) {
    const uint32_t counts[2] = {c.small_count ? c.small_count : 1, c.large_count ? c.large_count : 1};
    const uint32_t bytes[2] = {small_bytes, large_bytes};
    for (uint8_t k = 0; k < 2; k++) {
        Class& cl = cls_[k];
        cl.count = counts[k];
        cl.bytes = bytes[k];
        cl.hdr = std::make_unique<StreamMsg[]>(cl.count);
        // new char[] leaves the bytes untouched: pages become resident as used.
        cl.mem.reset(new char[size_t(cl.count) * cl.bytes]);
        cl.free_list = std::make_unique<SpscRing<uint32_t>>(cl.count);
        // Filled here, before either side's thread uses the pool (thread start
        // orders these writes before their reads).
        for (uint32_t i = 0; i < cl.count; i++) cl.free_list->push(i);
    }
}

StreamMsg* MsgPool::alloc(size_t len) noexcept {
    for (uint8_t k = len <= small_bytes ? 0 : 1; k < 2; k++) {
        Class& cl = cls_[k];
        if (len > cl.bytes) continue;
        uint32_t i;
        if (!cl.free_list->pop(i)) continue;
        StreamMsg* m = &cl.hdr[i];
        *m = StreamMsg{};
        m->cap = cl.bytes;
        m->slot = i;
        m->pool_class = k;
        m->data = cl.mem.get() + size_t(i) * cl.bytes;
        return m;
    }
    return nullptr;
}

void MsgPool::free(StreamMsg* m) noexcept {
    if (m == nullptr || m->pool_class > 1) return;
    // Cannot fail: the ring holds every slot of its class.
    cls_[m->pool_class].free_list->push(m->slot);
}

uint32_t MsgPool::in_use() const noexcept {
    return uint32_t(cls_[0].count - cls_[0].free_list->size() + cls_[1].count -
                    cls_[1].free_list->size());
}

}  // namespace sipedge::stream
