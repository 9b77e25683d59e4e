// OpList: intrusive FIFO of pending IoOps (per fd and direction). Internal.
#pragma once

#include "squall/ioloop/io_op.hpp"

namespace squall::detail {

struct OpList {
    IoOp* head = nullptr;
    IoOp* tail = nullptr;

    bool empty() const noexcept { return head == nullptr; }
    void push_back(IoOp* op) noexcept {
        op->next = nullptr;
        op->prev = tail;
        if (tail)
            tail->next = op;
        else
            head = op;
        tail = op;
        op->pending = true;
    }
    void remove(IoOp* op) noexcept {
        if (op->prev)
            op->prev->next = op->next;
        else
            head = op->next;
        if (op->next)
            op->next->prev = op->prev;
        else
            tail = op->prev;
        op->next = op->prev = nullptr;
        op->pending = false;
    }
    bool contains(const IoOp* op) const noexcept {
        for (IoOp* p = head; p; p = p->next)
            if (p == op) return true;
        return false;
    }
};

// Runs the syscall for op once; returns false on EAGAIN (op.result untouched), true when op.result is set.
bool try_op_syscall(IoOp& op) noexcept;

}  // namespace squall::detail
