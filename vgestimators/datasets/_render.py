"""Vectorised rendering of foraminifer shells (private to make_forams).

A shell is a set of chambers, each an ellipsoid cap seen from above: an
ellipse in the image plane (centre, radial and tangential radius, orientation)
with a height profile ``z = z0 + h * sqrt(1 - rho**2)``. A z-buffer keeps, per
pixel, the chamber whose surface is nearest the viewer; the surface normal of
that chamber then gives Lambert and Blinn-Phong shading. Pores, sutures, the
aperture, depth-of-field blur and sensor noise follow. Everything runs on
batches of images at once (numpy broadcasting over image x row x column), so
the cost per image is a few dozen vector operations per chamber.
"""

import numpy as np

# Per-image inputs expected by ``render_shells`` (all numpy arrays):
#   cx, cy, ra, rb, cos, sin, z0, h, valid : (n, K) chamber geometry in pixels
#   last : (n,) index of the final chamber; coil : (n,) +1 / -1
#   aperture : (n,) aperture size (fraction of the final chamber)
#   pore_spacing : (n,) pore spacing in pixels; pore_depth : (n,) 0..1
#   gloss : (n,) 0 (matte) .. 1 (glossy); grain : (n,) wall roughness 0..1
#   color : (n, 3) albedo; light : (n, 3) unit light direction
#   exposure, background, noise : (n,)

_HEX = np.array(
    [[1.0, 0.0], [-0.5, np.sqrt(3) / 2], [-0.5, -np.sqrt(3) / 2]], dtype=np.float32
)


def render_shells(geom, image_size, rng, *, chunk_size=128):
    """Render ``n`` RGB shells as uint8 ``(n, image_size, image_size, 3)``."""
    n = geom["cx"].shape[0]
    out = np.empty((n, image_size, image_size, 3), dtype=np.uint8)
    for start in range(0, n, chunk_size):
        sl = slice(start, min(start + chunk_size, n))
        out[sl] = _render_chunk({k: v[sl] for k, v in geom.items()}, image_size, rng)
    return out


def _render_chunk(g, size, rng):
    f32 = np.float32
    n, n_chambers = g["cx"].shape
    coords = np.arange(size, dtype=f32) + f32(0.5)
    # z-buffer state per pixel: height of the visible surface, index of the
    # visible chamber, and its local (normalised) ellipse coordinates.
    zbuf = np.full((n, size, size), -np.inf, dtype=f32)
    win = np.full((n, size, size), -1, dtype=np.int8)
    ubuf = np.zeros((n, size, size), dtype=f32)
    vbuf = np.zeros((n, size, size), dtype=f32)
    u = np.empty((n, size, size), dtype=f32)
    v = np.empty_like(u)
    t = np.empty_like(u)
    better = np.empty((n, size, size), dtype=bool)
    inside = np.empty_like(better)
    for k in range(n_chambers):
        valid = g["valid"][:, k]
        if not valid.any():
            continue
        dx = coords[None, :] - g["cx"][:, k, None].astype(f32)  # (n, size) columns
        dy = coords[None, :] - g["cy"][:, k, None].astype(f32)  # (n, size) rows
        c = g["cos"][:, k, None].astype(f32)
        s = g["sin"][:, k, None].astype(f32)
        inv_a = (1.0 / g["ra"][:, k, None]).astype(f32)
        inv_b = (1.0 / g["rb"][:, k, None]).astype(f32)
        # u = (dx c + dy s) / ra, v = (-dx s + dy c) / rb as outer sums: the
        # products are on (n, size) vectors, only the sums are full size.
        np.add((dx * c * inv_a)[:, None, :], (dy * s * inv_a)[:, :, None], out=u)
        np.add((-dx * s * inv_b)[:, None, :], (dy * c * inv_b)[:, :, None], out=v)
        np.multiply(u, u, out=t)
        t += v * v
        np.subtract(f32(1.0), t, out=t)  # 1 - rho^2, > 0 inside the ellipse
        np.greater(t, f32(0.0), out=inside)
        inside &= valid[:, None, None]
        np.maximum(t, f32(0.0), out=t)
        np.sqrt(t, out=t)
        t *= g["h"][:, k, None, None].astype(f32)
        t += g["z0"][:, k, None, None].astype(f32)
        np.greater(t, zbuf, out=better)
        better &= inside
        np.copyto(zbuf, t, where=better)
        np.copyto(ubuf, u, where=better)
        np.copyto(vbuf, v, where=better)
        np.copyto(win, np.int8(k), where=better)
    return _shade(g, win, ubuf, vbuf, rng)


def _gather(values, flat):
    """Per-pixel value of the visible chamber (``values`` is (n, K))."""
    return np.take(values.astype(np.float32).ravel(), flat)


def _shade(g, win, u, v, rng):
    f32 = np.float32
    n, size, _ = win.shape
    shell = win >= 0
    # flat index of the visible chamber of each pixel into the (n, K) tables
    n_chambers = g["ra"].shape[1]
    flat = np.maximum(win, 0).astype(np.intp)
    flat += (np.arange(n, dtype=np.intp) * n_chambers)[:, None, None]
    ra = _gather(g["ra"], flat)
    rb = _gather(g["rb"], flat)
    c = _gather(g["cos"], flat)
    s = _gather(g["sin"], flat)
    h = _gather(g["h"], flat)
    rho2 = np.minimum(u * u + v * v, f32(0.995))
    root = np.sqrt(f32(1.0) - rho2)
    # Height gradient in local coordinates, then in image coordinates.
    dz_du = -h * u / (root * ra)  # per pixel of the u axis
    dz_dv = -h * v / (root * rb)
    dz_dx = dz_du * c - dz_dv * s
    dz_dy = dz_du * s + dz_dv * c
    norm = np.sqrt(dz_dx * dz_dx + dz_dy * dz_dy + f32(1.0))
    nx, ny, nz = -dz_dx / norm, -dz_dy / norm, f32(1.0) / norm
    light = g["light"].astype(f32)
    lx, ly, lz = (light[:, i, None, None] for i in range(3))
    lambert = np.maximum(nx * lx + ny * ly + nz * lz, f32(0.0))
    # Blinn-Phong highlight with the viewer on the optical axis.
    hx, hy, hz = lx, ly, lz + f32(1.0)
    hn = np.sqrt(hx * hx + hy * hy + hz * hz)
    spec = np.maximum((nx * hx + ny * hy + nz * hz) / hn, f32(0.0))
    gloss = g["gloss"].astype(f32)[:, None, None]
    spec = gloss * spec ** (f32(4.0) + f32(36.0) * gloss)

    # Wall pores: a hexagonal lattice in chamber-local pixel coordinates, so
    # the pores move with each chamber; seen obliquely near the rim they fade.
    px = u * ra
    py = v * rb
    freq = (2 * np.pi / g["pore_spacing"]).astype(f32)[:, None, None]
    lattice = sum(np.cos(freq * (px * e[0] + py * e[1])) for e in _HEX)
    pores = np.clip((lattice - f32(1.2)) / f32(1.8), 0.0, 1.0) * root
    pore_depth = g["pore_depth"].astype(f32)[:, None, None]
    grain = g["grain"].astype(f32)[:, None, None]
    rough = _noise(rng, (n, size, size))
    wall = (f32(1.0) - f32(0.85) * pore_depth * pores) * (
        f32(1.0) + f32(0.25) * grain * rough
    )

    # Sutures: darken pixels whose visible chamber differs from a neighbour's.
    suture = np.zeros((n, size, size), dtype=bool)
    diff_x = win[:, :, 1:] != win[:, :, :-1]
    diff_y = win[:, 1:, :] != win[:, :-1, :]
    suture[:, :, 1:] |= diff_x
    suture[:, :, :-1] |= diff_x
    suture[:, 1:, :] |= diff_y
    suture[:, :-1, :] |= diff_y
    wall *= np.where(suture & shell, f32(0.55), f32(1.0))

    # Aperture: a dark arch at the leading, inner edge of the final chamber.
    coil = g["coil"].astype(f32)[:, None, None]
    ap = g["aperture"].astype(f32)[:, None, None]
    # It opens towards the coil axis (u = -1), shifted in the coiling direction,
    # and has a raised lip that catches the light.
    au = (u + f32(0.9)) / (f32(0.45) * ap + f32(1e-3))
    av = (v - coil * f32(0.2)) / (f32(0.6) * ap + f32(1e-3))
    arch = au * au + av * av
    final = win == g["last"][:, None, None]
    wall *= np.where(final & (arch < f32(1.0)), f32(0.1), f32(1.0))
    wall *= np.where(
        final & (arch >= f32(1.0)) & (arch < f32(1.6)), f32(1.25), f32(1.0)
    )

    # Translucent test: a little light even where the surface faces away.
    base = (f32(0.18) + f32(0.82) * lambert) * wall
    color = g["color"].astype(f32)
    exposure = g["exposure"].astype(f32)[:, None, None]

    # Dark background with a soft halo of scattered light around the shell.
    yy, xx = np.mgrid[0:size, 0:size].astype(f32) / f32(size) - f32(0.5)
    vignette = f32(1.0) - f32(1.6) * (xx * xx + yy * yy)
    bg = g["background"].astype(f32)[:, None, None] * vignette[None]
    noise = g["noise"].astype(f32)[:, None, None]

    # One colour channel at a time: (n, size, size) arrays keep the
    # broadcasting on leading axes, which is much faster than a trailing
    # axis of length 3.
    out = np.empty((n, size, size, 3), dtype=np.uint8)
    for ch in range(3):
        x = exposure * (color[:, ch, None, None] * base + spec)
        x = _blur(np.where(shell, x, bg))  # depth of field
        x += noise * _noise(rng, x.shape) * np.sqrt(np.maximum(x, f32(0.02)))
        out[..., ch] = np.clip(x * f32(255.0) + f32(0.5), 0, 255)
    return out


def _noise(rng, shape):
    """Zero-mean, unit-variance noise (sum of two uniform bytes).

    Five times faster than Gaussian draws and, for sensor noise, as good.
    """
    count = int(np.prod(shape))
    raw = np.frombuffer(rng.bytes(2 * count), dtype=np.uint8)
    noise = raw[:count].astype(np.float32)
    noise += raw[count:]
    noise -= np.float32(255.0)
    noise *= np.float32(1.0 / 104.1)  # sd of the sum of two uniform bytes
    return noise.reshape(shape)


def _blur(img):
    out = img * np.float32(0.5)
    out[:, 1:] += img[:, :-1] * np.float32(0.25)
    out[:, :-1] += img[:, 1:] * np.float32(0.25)
    out[:, 0] += img[:, 0] * np.float32(0.25)
    out[:, -1] += img[:, -1] * np.float32(0.25)
    img = out
    out = img * np.float32(0.5)
    out[:, :, 1:] += img[:, :, :-1] * np.float32(0.25)
    out[:, :, :-1] += img[:, :, 1:] * np.float32(0.25)
    out[:, :, 0] += img[:, :, 0] * np.float32(0.25)
    out[:, :, -1] += img[:, :, -1] * np.float32(0.25)
    return out
