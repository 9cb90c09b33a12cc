"""Merkle tree hashing and proofs of RFC 6962 / RFC 9162 (SHA-256), pure: hashlib only, no database.

The case log is an append-only list of canonical entries (bytes); its tree is the RFC's Merkle Tree Hash
(MTH) over them, so any outsider's RFC 6962 tool (certificate transparency, transparency-dev/merkle)
computes the same roots and checks the same proofs. Every hash is 32 raw bytes (``HASH_SIZE``).

API (for the log's storage side and the agreement document)
-----------------------------------------------------------
``leaf_hash(entry) -> bytes``                   H(0x00 || entry): the hash a stored entry contributes.
``node_hash(left, right) -> bytes``             H(0x01 || left || right).
``EMPTY_ROOT``                                  H(""): the root of the tree with no entries.
``root(leaf_hashes) -> bytes``                  MTH over a list of leaf hashes (O(n), no recursion).
``inclusion_proof(leaf_hashes, index, size)``   audit path for entry ``index`` in the tree of the first
                                                ``size`` leaves (list of hashes, leaf side first).
``verify_inclusion(leaf_hash, index, size, proof, root) -> bool``        RFC 9162 §2.1.3.2.
``root_from_inclusion(leaf_hash, index, size, proof) -> bytes | None``  the root a proof leads to.
``consistency_proof(leaf_hashes, old_size, new_size)``  RFC 9162 §2.1.4.1 (empty when old is 0 or equal).
``verify_consistency(old_size, new_size, old_root, new_root, proof) -> bool``  RFC 9162 §2.1.4.2.
``class CompactRange``    streaming root: ``append(leaf_hash)``, ``extend(hashes)``, ``root()``, ``size``;
                          O(log n) memory; for recomputing a million-entry log and its roots at every
                          stored head size in one pass (``root()`` is cheap: call it whenever ``size``
                          reaches a head's size).
``class MerkleTree``      in-memory tree kept level by level (64 bytes a leaf): ``append``/``extend``,
                          ``size``, ``root(size=None)``, ``leaf_hash(index)``, ``inclusion_proof(index,
                          size=None)``, ``consistency_proof(old_size, new_size=None)``; built once in O(n),
                          then each proof costs O(log² n) hashes at most, never a pass over the log.

Verification never raises for bad input (wrong sizes, wrong hash lengths, out-of-range indexes): it
answers False, because a verifier's input comes from whoever handed over the document. Proof
*generation* raises ``ValueError`` for impossible requests (an index outside the tree), which is a bug
in the caller, not a property of the data.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Sequence

HASH_SIZE = 32
_LEAF_PREFIX = b"\x00"
_NODE_PREFIX = b"\x01"
EMPTY_ROOT = hashlib.sha256(b"").digest()


def leaf_hash(entry: bytes) -> bytes:
    """RFC 6962 leaf hash: SHA-256 of 0x00 followed by the entry."""
    return hashlib.sha256(_LEAF_PREFIX + entry).digest()


def node_hash(left: bytes, right: bytes) -> bytes:
    """RFC 6962 interior node hash: SHA-256 of 0x01, the left child, the right child."""
    return hashlib.sha256(_NODE_PREFIX + left + right).digest()


def _largest_power_of_two_below(n: int) -> int:
    """The split point k of the RFC: the largest power of two strictly smaller than n (n >= 2)."""
    return 1 << ((n - 1).bit_length() - 1)


class CompactRange:
    """The roots of the perfect subtrees covering [0, size): enough to extend the log and name its root.

    Appending merges equal-sized neighbours like binary carry, so it holds at most log2(size) hashes.
    """

    __slots__ = ("_hashes", "_size")

    def __init__(self) -> None:
        self._hashes: list[bytes] = []  # perfect subtree roots, largest (leftmost) first
        self._size = 0

    @property
    def size(self) -> int:
        return self._size

    def append(self, leaf: bytes) -> None:
        """Add one leaf *hash* (``leaf_hash(entry)``), not the entry itself."""
        hashes = self._hashes
        hashes.append(leaf)
        size = self._size
        # Each trailing 1 bit of the old size is a perfect subtree the new leaf completes.
        while size & 1:
            right = hashes.pop()
            hashes[-1] = node_hash(hashes[-1], right)
            size >>= 1
        self._size += 1

    def extend(self, leaves: Iterable[bytes]) -> None:
        for leaf in leaves:
            self.append(leaf)

    def root(self) -> bytes:
        """MTH of the leaves so far: fold the subtree roots from the right (the RFC's largest-power split)."""
        if not self._hashes:
            return EMPTY_ROOT
        result = self._hashes[-1]
        for left in reversed(self._hashes[:-1]):
            result = node_hash(left, result)
        return result

    def copy(self) -> CompactRange:
        other = CompactRange()
        other._hashes = list(self._hashes)
        other._size = self._size
        return other


def root(leaf_hashes: Iterable[bytes]) -> bytes:
    """MTH over the leaf hashes given (the empty tree's root is H(""))."""
    compact = CompactRange()
    compact.extend(leaf_hashes)
    return compact.root()


class MerkleTree:
    """A whole tree in memory, one packed byte string a level, so proofs look nodes up instead of rehashing.

    ``levels[k]`` holds the roots of the complete subtrees of 2**k leaves, left to right (32 bytes each).
    """

    def __init__(self, leaf_hashes: Iterable[bytes] = ()) -> None:
        self._levels: list[bytearray] = [bytearray()]
        self._size = 0
        self.extend(leaf_hashes)

    @property
    def size(self) -> int:
        return self._size

    def append(self, leaf: bytes) -> None:
        """Add one leaf hash; completes the subtrees it closes, level by level."""
        if len(leaf) != HASH_SIZE:
            raise ValueError(f"a leaf hash is {HASH_SIZE} bytes, got {len(leaf)}")
        self._levels[0] += leaf
        self._size += 1
        index, level = self._size - 1, 0
        while index & 1:  # this node is a right child: its parent is now complete
            below = self._levels[level]
            start = (index - 1) * HASH_SIZE
            parent = node_hash(bytes(below[start : start + HASH_SIZE]), bytes(below[start + HASH_SIZE :]))
            level += 1
            if level == len(self._levels):
                self._levels.append(bytearray())
            self._levels[level] += parent
            index >>= 1

    def extend(self, leaves: Iterable[bytes]) -> None:
        for leaf in leaves:
            self.append(leaf)

    def leaf_hash(self, index: int) -> bytes:
        self._check_index(index, self._size)
        return self._node(0, index)

    def root(self, size: int | None = None) -> bytes:
        """MTH of the first ``size`` leaves (all of them by default)."""
        size = self._check_size(size)
        return self._range_hash(0, size) if size else EMPTY_ROOT

    def inclusion_proof(self, index: int, size: int | None = None) -> list[bytes]:
        """RFC 9162 §2.1.3.1 PATH(index, D[0:size]): the sibling hashes from the leaf up to the root."""
        size = self._check_size(size)
        self._check_index(index, size)
        proof: list[bytes] = []
        start, end = 0, size
        # Walk down from the root; each step records the sibling subtree, so reverse at the end.
        while end - start > 1:
            k = _largest_power_of_two_below(end - start)
            if index < start + k:
                proof.append(self._range_hash(start + k, end))
                end = start + k
            else:
                proof.append(self._range_hash(start, start + k))
                start += k
        proof.reverse()
        return proof

    def consistency_proof(self, old_size: int, new_size: int | None = None) -> list[bytes]:
        """RFC 9162 §2.1.4.1 PROOF(old_size, D[0:new_size]); empty when old_size is 0 or equals new_size."""
        new_size = self._check_size(new_size)
        if not 0 <= old_size <= new_size:
            raise ValueError(f"old size {old_size} must be between 0 and the new size {new_size}")
        if old_size in (0, new_size):
            return []
        proof: list[bytes] = []
        start, end, m, known = 0, new_size, old_size, True
        # SUBPROOF(m, D[start:end], known), unrolled: each step appends one hash after the deeper ones.
        while m != end - start:
            k = _largest_power_of_two_below(end - start)
            if m <= k:
                proof.append(self._range_hash(start + k, end))
                end = start + k
            else:
                proof.append(self._range_hash(start, start + k))
                start, m, known = start + k, m - k, False
        if not known:
            proof.append(self._range_hash(start, end))
        proof.reverse()
        return proof

    def _node(self, level: int, index: int) -> bytes:
        offset = index * HASH_SIZE
        return bytes(self._levels[level][offset : offset + HASH_SIZE])

    def _range_hash(self, start: int, end: int) -> bytes:
        """MTH of leaves [start, end) where start is a multiple of the range's power-of-two ceiling (as
        every subtree the RFC's recursion visits is): the range is complete subtrees of falling size."""
        parts: list[bytes] = []
        position, remaining = start, end - start
        while remaining:
            level = remaining.bit_length() - 1
            parts.append(self._node(level, position >> level))
            position += 1 << level
            remaining -= 1 << level
        result = parts[-1]
        for left in reversed(parts[:-1]):
            result = node_hash(left, result)
        return result

    def _check_size(self, size: int | None) -> int:
        if size is None:
            return self._size
        if not 0 <= size <= self._size:
            raise ValueError(f"size {size} is outside the tree of {self._size} leaves")
        return size

    @staticmethod
    def _check_index(index: int, size: int) -> None:
        if not 0 <= index < size:
            raise ValueError(f"leaf index {index} is outside a tree of {size} leaves")


def inclusion_proof(leaf_hashes: Sequence[bytes], index: int, size: int) -> list[bytes]:
    """The audit path of leaf ``index`` in the tree of the first ``size`` leaf hashes.

    Builds the tree (O(size)); for many proofs over one log, build a ``MerkleTree`` once instead.
    """
    return MerkleTree(leaf_hashes[:size]).inclusion_proof(index, size)


def consistency_proof(leaf_hashes: Sequence[bytes], old_size: int, new_size: int) -> list[bytes]:
    """The proof that the tree of ``old_size`` leaves is a prefix of the tree of ``new_size`` leaves."""
    if new_size > len(leaf_hashes):
        raise ValueError(f"new size {new_size} is more than the {len(leaf_hashes)} leaves given")
    return MerkleTree(leaf_hashes[:new_size]).consistency_proof(old_size, new_size)


def _all_hashes(*hashes: bytes) -> bool:
    return all(isinstance(h, bytes | bytearray) and len(h) == HASH_SIZE for h in hashes)


def root_from_inclusion(leaf: bytes, index: int, size: int, proof: Sequence[bytes]) -> bytes | None:
    """The root that ``proof`` leads to from ``leaf`` at ``index`` in a tree of ``size``; None if the proof
    cannot belong to that position (wrong length, index out of range, malformed hashes)."""
    if not (0 <= index < size) or not _all_hashes(leaf, *proof):
        return None
    fn, sn, result = index, size - 1, bytes(leaf)
    for sibling in proof:
        if sn == 0:
            return None  # more hashes than the path from this leaf has levels
        if fn & 1 or fn == sn:
            result = node_hash(bytes(sibling), result)
            # A right edge subtree with no sibling at these levels: climb until this node is a right child.
            while not fn & 1 and fn != 0:
                fn >>= 1
                sn >>= 1
        else:
            result = node_hash(result, bytes(sibling))
        fn >>= 1
        sn >>= 1
    return result if sn == 0 else None


def verify_inclusion(leaf: bytes, index: int, size: int, proof: Sequence[bytes], root: bytes) -> bool:
    """RFC 9162 §2.1.3.2: is the leaf hash at ``index`` in the tree of ``size`` whose root is ``root``?"""
    computed = root_from_inclusion(leaf, index, size, proof)
    return computed is not None and _all_hashes(root) and computed == bytes(root)


def verify_consistency(
    old_size: int, new_size: int, old_root: bytes, new_root: bytes, proof: Sequence[bytes]
) -> bool:
    """RFC 9162 §2.1.4.2: is the tree (old_size, old_root) a prefix of the tree (new_size, new_root)?"""
    if not (0 <= old_size <= new_size) or not _all_hashes(old_root, new_root, *proof):
        return False
    if old_size == new_size:
        return not proof and old_root == new_root
    if old_size == 0:
        return not proof  # the empty tree is a prefix of every tree
    if not proof:
        return False
    path = [bytes(p) for p in proof]
    if old_size & (old_size - 1) == 0:  # a power of two: the old root is itself a node of the new tree
        path.insert(0, bytes(old_root))
    fn, sn = old_size - 1, new_size - 1
    while fn & 1:
        fn >>= 1
        sn >>= 1
    first = second = path[0]
    for node in path[1:]:
        if sn == 0:
            return False
        if fn & 1 or fn == sn:
            first = node_hash(node, first)
            second = node_hash(node, second)
            while not fn & 1 and fn != 0:
                fn >>= 1
                sn >>= 1
        else:
            second = node_hash(second, node)
        fn >>= 1
        sn >>= 1
    return sn == 0 and first == bytes(old_root) and second == bytes(new_root)
