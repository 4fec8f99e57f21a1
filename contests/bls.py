"""BLS12-381 signatures on G1 with keys on G2 (drand's ``bls-unchained-g1-rfc9380``),
over py-ecc. Imported only when a round is checked or signed: py-ecc takes a second or
two to import, which a web or worker process should not pay at start."""

from __future__ import annotations

import hashlib
from typing import Any, cast

from py_ecc.bls.hash_to_curve import hash_to_G1
from py_ecc.bls.point_compression import compress_G1, compress_G2, decompress_G1, decompress_G2
from py_ecc.fields import optimized_bls12_381_FQ12 as FQ12
from py_ecc.optimized_bls12_381.optimized_curve import G2, curve_order, is_inf, multiply, neg
from py_ecc.optimized_bls12_381.optimized_pairing import final_exponentiate, miller_loop

DST = b"BLS_SIG_BLS12381G1_XMD:SHA-256_SSWU_RO_NUL_"


def verify(public_key: bytes, message: bytes, signature: bytes) -> None:
    """Raise ``ValueError`` unless ``signature`` (48 bytes) is the key's (96 bytes)
    signature of ``message``: both points valid and in their subgroups, and
    e(H(m), key) == e(signature, g2)."""
    try:
        key = decompress_G2(
            cast(
                Any,
                (int.from_bytes(public_key[:48], "big"), int.from_bytes(public_key[48:], "big")),
            )
        )
        point = decompress_G1(cast(Any, int.from_bytes(signature, "big")))
    except (ValueError, TypeError) as error:
        raise ValueError(f"the key or the signature is not a valid curve point: {error}") from None
    if is_inf(point) or not is_inf(multiply(point, curve_order)):
        raise ValueError("the signature is not a point of the signature group")
    if is_inf(key) or not is_inf(multiply(key, curve_order)):
        raise ValueError("the public key is not a point of the key group")
    hashed = hash_to_G1(message, DST, cast(Any, hashlib.sha256))
    # One product of two Miller loops and one final exponentiation, not two pairings.
    product = miller_loop(key, hashed, False) * miller_loop(neg(G2), point, False)
    if final_exponentiate(product) != FQ12.one():
        raise ValueError("the signature does not match the key")


def sign(secret: int, message: bytes) -> bytes:
    hashed = hash_to_G1(message, DST, cast(Any, hashlib.sha256))
    return int(compress_G1(multiply(hashed, secret))).to_bytes(48, "big")


def public_key(secret: int) -> bytes:
    z1, z2 = compress_G2(multiply(G2, secret))
    return int(z1).to_bytes(48, "big") + int(z2).to_bytes(48, "big")
