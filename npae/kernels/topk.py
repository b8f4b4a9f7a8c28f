"""Top-k selection per row (k-sparse autoencoders): mark the k largest values of each row.

Ties are broken deterministically: among equal values the lower index ranks higher (the
order a stable sort of −z gives). Arguments are flat C-contiguous arrays: ``z`` holds
n_rows × n_cols values row by row, ``out`` (bool, same size) receives the mask.
"""
import numpy as np

from .backend import with_twin


def _topk_mask_numpy(z, n_rows, n_cols, k, out):
    rows = z.reshape(n_rows, n_cols)
    best = np.argsort(-rows, axis=1, kind="stable")[:, :k]   # stable: lower index wins ties
    mask = out.reshape(n_rows, n_cols)
    mask[...] = False
    np.put_along_axis(mask, best, True, axis=1)
    return out


@with_twin(_topk_mask_numpy)
def topk_mask(z, n_rows, n_cols, k, out):
    """One pass per row keeping the best k so far in a sorted buffer: O(n_cols · k) worst
    case, about O(n_cols) when k is small (most values never enter the buffer)."""
    best_value = np.empty(k, np.float64)
    best_index = np.empty(k, np.int64)
    for r in range(n_rows):
        base = r * n_cols
        count = 0
        for j in range(n_cols):
            v = z[base + j]
            if count < k:
                position = count
                count += 1
            elif v > best_value[k - 1]:   # strictly greater: an equal later value loses
                position = k - 1
            else:
                continue
            while position > 0 and best_value[position - 1] < v:   # insert after equals
                best_value[position] = best_value[position - 1]
                best_index[position] = best_index[position - 1]
                position -= 1
            best_value[position] = v
            best_index[position] = j
        for j in range(n_cols):
            out[base + j] = False
        for i in range(k):
            out[base + best_index[i]] = True
    return out
