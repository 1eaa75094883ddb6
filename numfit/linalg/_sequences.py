"""Seeded sequences of SPD systems (the experiments of Khodak et al., *Learning to Relax*,
ICLR 2024: §2-3 and App. G.2; docs/sor.md): shifted 2-D Laplacians and the
Crank-Nicolson 2-D heat equation with time-varying diffusivity."""
import math
from collections import namedtuple

import numpy as np
import scipy.sparse as sp

from .._validation import as_rng, check_float, check_int, check_option

__all__ = ["LinearSystem", "laplacian_2d", "shifted_laplacian_sequence", "HeatEquation2D",
           "default_kappa", "bump", "anisotropic_diffusion", "anisotropic_sequence",
           "rotated_anisotropic_sequence"]

LinearSystem = namedtuple("LinearSystem", ["A", "b", "context", "x0"])
LinearSystem.__doc__ = "One system of a sequence: ``A x = b`` with a scalar context and start."


def _tridiag(m):
    return sp.diags_array([-np.ones(m - 1), 2.0 * np.ones(m), -np.ones(m - 1)],
                          offsets=[-1, 0, 1], format="csr")


def laplacian_2d(m):
    """5-point Laplacian ``kron(I, T_m) + kron(T_m, I)`` (diagonal 4), n = m^2, CSR."""
    m = check_int("m", m, lo=1)
    T = _tridiag(m)
    I = sp.eye_array(m, format="csr")
    return sp.csr_array(sp.kron(I, T) + sp.kron(T, I))


def _laplacian_3d(m):
    """7-point Laplacian on an m x m x m grid (diagonal 6), n = m^3, CSR."""
    T = _tridiag(m)
    I = sp.eye_array(m, format="csr")
    return sp.csr_array(sp.kron(sp.kron(T, I), I) + sp.kron(sp.kron(I, T), I)
                        + sp.kron(sp.kron(I, I), T))


def _graph_laplacian(n, seed, shift=1e-2):
    """Laplacian of a random graph plus ``shift * I``, CSR: ``W`` with density ``3 / n`` and
    uniform weights from ``default_rng(seed)``, symmetrised (about 6 neighbours a vertex),
    no self-loops. Irregular rows, no property A: the SSOR demo, benchmarks and tests use
    it."""
    W = sp.random_array((n, n), density=3.0 / n, rng=np.random.default_rng(seed), format="csr")
    W = sp.csr_array(W + W.T)
    W.setdiag(0)
    W.eliminate_zeros()
    return sp.csr_array(sp.diags_array(np.asarray(W.sum(axis=1)).ravel() + shift) - W)


def shifted_laplacian_sequence(T, m=10, variance="low", rng=None, c0=-0.15, width=0.6,
                               beta=None):
    """Yield ``T`` systems ``(A0 + c I) x = b`` (Khodak et al., ICLR 2024, §2-3).

    Per instance, in this order: ``B ~ Beta(2, 6)`` ("low"), ``Beta(1/2, 3/2)`` ("high") or
    ``Beta(*beta)``; ``c = c0 + width * B``; ``z ~ N(0, I_n)`` redrawn until
    ``||z|| <= sqrt(n)``; ``b = z``. Context ``c``, ``x0 = None``.

    Parameters
    ----------
    T : int
        Number of systems.
    m : int
        Grid side (n = m^2).
    variance : {"low", "high"}
    rng : None, int or Generator
    c0, width : float
    beta : (float, float), optional
        Overrides ``variance``.

    Yields
    ------
    LinearSystem

    Examples
    --------
    >>> from numfit.linalg import shifted_laplacian_sequence
    >>> systems = list(shifted_laplacian_sequence(3, rng=0))
    >>> systems[0].A.shape, round(systems[0].context, 4)
    ((100, 100), -0.0299)
    """
    T = check_int("T", T, lo=0)
    m = check_int("m", m, lo=1)
    c0 = check_float("c0", c0)
    width = check_float("width", width, lo=0.0)
    if beta is None:
        variance = check_option("variance", variance, ("low", "high"))
        a, bpar = (2.0, 6.0) if variance == "low" else (0.5, 1.5)
    else:
        try:
            a, bpar = beta
        except (TypeError, ValueError):
            raise ValueError(f"`beta` must be a pair (a, b); got {beta!r}") from None
        a = check_float("beta[0]", a, lo=0.0, lo_open=True)
        bpar = check_float("beta[1]", bpar, lo=0.0, lo_open=True)
    gen = as_rng(rng)
    A0 = laplacian_2d(m)
    n = m * m
    I = sp.eye_array(n, format="csr")
    return _shifted_gen(T, A0, I, n, a, bpar, c0, width, gen)


def _shifted_gen(T, A0, I, n, a, bpar, c0, width, gen):
    for _ in range(T):
        B = gen.beta(a, bpar)
        c = c0 + width * B
        for _ in range(1000):            # P(||z|| <= sqrt(n)) ~ 1/2: a cap that is never hit
            z = gen.standard_normal(n)
            if np.linalg.norm(z) <= math.sqrt(n):
                break
        yield LinearSystem(sp.csr_array(A0 + c * I), z, float(c), None)


def default_kappa(t):
    """``kappa(t) = max(0.1 sin 2 pi t, -10 sin 2 pi t)`` in [0, 10]."""
    s = math.sin(2.0 * math.pi * t)
    return max(0.1 * s, -10.0 * s)


def bump(x, y, cx, cy, rho):
    """``exp(1 - 1/(1 - min(1, |p - c|^2 / rho^2)))`` (0 outside the disc of radius rho)."""
    q = np.minimum(1.0, ((x - cx) ** 2 + (y - cy) ** 2) / rho ** 2)
    with np.errstate(divide="ignore"):
        return np.where(q < 1.0, np.exp(1.0 - 1.0 / (1.0 - np.minimum(q, 1 - 1e-300))), 0.0)


def _default_forcing(x, y, t):
    return 32.0 * bump(x, y, 0.5 + math.cos(16 * math.pi * t) / 4,
                       0.5 + math.sin(16 * math.pi * t) / 4, 1.0 / 8)


def _default_initial(x, y):
    return bump(x, y, 0.5, 0.5, 0.25)


class HeatEquation2D:
    """Crank-Nicolson steps of ``u_t = kappa(t) Lap u + f`` on [0,1]^2, u = 0 on the boundary.

    Interior points ``(i/nx, j/nx)``, i, j = 1..nx-1, index ``(i-1)(nx-1) + (j-1)``,
    n = (nx-1)^2. Step s: ``tau = (s + 1/2) dt``, ``A = I - kappa(tau) dt/2 L_h``,
    ``b = (I + kappa(tau) dt/2 L_h) u_s + dt f(., tau)``, context ``kappa(tau)``
    (``context="start"``: ``kappa(s dt)``), ``x0 = u_s``. Iterate to get systems; call
    :meth:`advance` with the solution before asking for the next one.

    Parameters
    ----------
    nx : int
        Grid intervals per side (>= 2).
    dt, t_end : float
        Time step and end time (``round(t_end/dt)`` steps).
    kappa : callable, optional
        ``kappa(t) -> float >= 0``; default :func:`default_kappa`.
    forcing : callable, optional
        ``f(x, y, t)`` on arrays; default a moving bump of height 32, radius 1/8.
    initial : callable, optional
        ``u0(x, y)``; default a bump at (1/2, 1/2), radius 1/4.
    context : {"mid", "start"}

    Examples
    --------
    >>> import numfit as nf
    >>> from numfit.linalg import HeatEquation2D
    >>> seq = HeatEquation2D(10, t_end=0.003)
    >>> for sys in seq:
    ...     r = nf.ssor_cg(sys.A, sys.b, omega=1.5, x0=sys.x0)
    ...     seq.advance(r.x)
    >>> seq.steps, seq.step, seq.u.shape
    (3, 3, (81,))
    """

    def __init__(self, nx, dt=1e-3, t_end=5.0, kappa=None, forcing=None, initial=None,
                 context="mid"):
        self.nx = check_int("nx", nx, lo=2)
        self.dt = check_float("dt", dt, lo=0.0, lo_open=True)
        self.t_end = check_float("t_end", t_end, lo=0.0, lo_open=True)
        self.steps = int(round(self.t_end / self.dt))
        for nm, fn in (("kappa", kappa), ("forcing", forcing), ("initial", initial)):
            if fn is not None and not callable(fn):
                raise TypeError(f"`{nm}` must be callable or None")
        self.kappa = default_kappa if kappa is None else kappa
        self.forcing = _default_forcing if forcing is None else forcing
        self.initial = _default_initial if initial is None else initial
        self.context = check_option("context", context, ("mid", "start"))
        k = self.nx - 1
        self.n = k * k
        h = 1.0 / self.nx
        g = np.arange(1, self.nx) * h
        X, Y = np.meshgrid(g, g, indexing="ij")         # X varies with i (slow index)
        self.x, self.y = X.ravel(), Y.ravel()
        T = _tridiag(k)
        I = sp.eye_array(k, format="csr")
        self.K = sp.csr_array(sp.kron(T, I) + sp.kron(I, T)) / h ** 2   # = -L_h
        self.I = sp.eye_array(self.n, format="csr")
        u0 = np.asarray(self.initial(self.x, self.y), dtype=np.float64)
        if u0.shape != (self.n,) or not np.all(np.isfinite(u0)):
            raise ValueError(f"`initial` must return finite values of shape ({self.n},)")
        self.u = u0
        self.step = 0
        self._pending = False

    def __len__(self):
        return self.steps

    def system(self, s):
        """The system of step ``s`` from the current ``u`` (no state change)."""
        tau = (s + 0.5) * self.dt
        kap = float(self.kappa(tau))
        if not (math.isfinite(kap) and kap >= 0):
            raise ValueError(f"`kappa`({tau}) must be a finite float >= 0; got {kap}")
        half = 0.5 * kap * self.dt
        A = sp.csr_array(self.I + half * self.K)
        b = self.u - half * (self.K @ self.u) + self.dt * np.asarray(
            self.forcing(self.x, self.y, tau), dtype=np.float64)
        ctx = kap if self.context == "mid" else float(self.kappa(s * self.dt))
        return LinearSystem(A, b, ctx, self.u.copy())

    def __iter__(self):
        while self.step < self.steps:
            if self._pending:
                raise RuntimeError("call advance(x) with the solution of the previous system "
                                   "before asking for the next one")
            self._pending = True
            yield self.system(self.step)

    def advance(self, x):
        """Accept the solution ``x`` of the current system as ``u_{s+1}``."""
        if not self._pending:
            raise RuntimeError("advance() called without a pending system")
        x = np.asarray(x, dtype=np.float64)
        if x.shape != (self.n,) or not np.all(np.isfinite(x)):
            raise ValueError(f"`x` must be a finite vector of shape ({self.n},); got shape "
                             f"{x.shape}")
        self.u = x.copy()
        self.step += 1
        self._pending = False


# ---------------------------------------------------------------- anisotropic diffusion
def _difference(m):
    """Central first difference ``(u_{i+1} - u_{i-1})`` with zero Dirichlet values, CSR."""
    return sp.diags_array([-np.ones(m - 1), np.ones(m - 1)], offsets=[-1, 1], format="csr")


def anisotropic_diffusion(mx, my=None, epsilon=1.0, theta=0.0, shift=0.0):
    """Finite-difference matrix of ``-div(K grad u) + shift u`` on an ``mx x my`` interior grid.

    ``K = R(theta) diag(1, epsilon) R(theta)^T`` (unit mesh width, zero Dirichlet values):
    with ``a = K_xx``, ``b = K_yy``, ``c = K_xy`` the 9-point stencil is ``2a + 2b`` at the
    centre, ``-a`` east/west, ``-b`` north/south and ``-c/2``, ``+c/2`` on the NE-SW and NW-SE
    diagonals (central cross difference). Its symbol is ``2a(1 - cos x) + 2b(1 - cos y) +
    2c sin x sin y >= 0`` since ``ab >= c^2``, so the matrix is symmetric positive definite
    for ``epsilon > 0``, ``shift >= 0``. ``theta = 0`` gives the 5-point anisotropic
    Laplacian ``kron(I, T_mx) + epsilon kron(T_my, I)``; for ``theta != 0`` the matrix is not
    consistently ordered. Index ``i + mx j`` (x fastest), CSR.

    Examples
    --------
    >>> from numfit.linalg import anisotropic_diffusion, laplacian_2d
    >>> A = anisotropic_diffusion(4)
    >>> bool(abs(A - laplacian_2d(4)).max() == 0)
    True
    """
    mx = check_int("mx", mx, lo=1)
    my = mx if my is None else check_int("my", my, lo=1)
    epsilon = check_float("epsilon", epsilon, lo=0.0, lo_open=True)
    theta = check_float("theta", theta)
    shift = check_float("shift", shift, lo=0.0)
    cs, sn = math.cos(theta), math.sin(theta)
    a = cs * cs + epsilon * sn * sn
    b = sn * sn + epsilon * cs * cs
    c = (1.0 - epsilon) * cs * sn
    Ix = sp.eye_array(mx, format="csr")
    Iy = sp.eye_array(my, format="csr")
    A = a * sp.kron(Iy, _tridiag(mx)) + b * sp.kron(_tridiag(my), Ix)
    if c != 0.0:
        A = A - 0.5 * c * sp.kron(_difference(my), _difference(mx))
    if shift:
        A = A + shift * sp.eye_array(mx * my)
    A = sp.csr_array(A)
    A.eliminate_zeros()
    A.sort_indices()
    return A


def _unit_rhs(gen, n):
    z = gen.standard_normal(n)
    return z / np.linalg.norm(z) * math.sqrt(n)


def anisotropic_sequence(T, mx=32, my=12, eps_range=(0.01, 100.0), rng=None):
    """Yield ``T`` independent anisotropic diffusion systems on a rectangular grid.

    Per system, in this order: ``epsilon = 10^U``, ``U ~ Uniform(log10 eps_lo,
    log10 eps_hi)``; ``b ~ N(0, I_n)`` scaled to norm ``sqrt(n)``. ``A`` is
    :func:`anisotropic_diffusion` ``(mx, my, epsilon)`` (axis-aligned, 5-point), context
    ``log10(epsilon)``, ``x0 = None``. On a rectangle (``mx != my``) the Jacobi spectral radius
    ``(cos(pi/(mx+1)) + epsilon cos(pi/(my+1))) / (1 + epsilon)`` and with it Young's optimal
    omega move with ``epsilon`` (for ``mx = 32, my = 12`` from about 1.82 at ``epsilon = 0.01``
    to 1.62 at ``epsilon = 100``).

    Examples
    --------
    >>> from numfit.linalg import anisotropic_sequence
    >>> s = list(anisotropic_sequence(2, mx=8, my=4, rng=0))
    >>> s[0].A.shape, len(s)
    ((32, 32), 2)
    """
    T = check_int("T", T, lo=0)
    mx = check_int("mx", mx, lo=1)
    my = check_int("my", my, lo=1)
    lo, hi = _range("eps_range", eps_range, lo_open=True)
    gen = as_rng(rng)
    return _aniso_gen(T, mx, my, math.log10(lo), math.log10(hi), gen)


def _range(name, value, lo_open=False):
    try:
        lo, hi = value
    except (TypeError, ValueError):
        raise ValueError(f"`{name}` must be a pair (lo, hi); got {value!r}") from None
    lo = check_float(f"{name}[0]", lo, lo=0.0, lo_open=lo_open)
    hi = check_float(f"{name}[1]", hi, lo=0.0, lo_open=lo_open)
    if hi < lo:
        raise ValueError(f"`{name}` must have lo <= hi; got ({lo}, {hi})")
    return lo, hi


def _aniso_gen(T, mx, my, llo, lhi, gen):
    n = mx * my
    for _ in range(T):
        u = gen.uniform(llo, lhi)
        b = _unit_rhs(gen, n)
        yield LinearSystem(anisotropic_diffusion(mx, my, 10.0 ** u), b, float(u), None)


def rotated_anisotropic_sequence(T, m=24, epsilon=0.05, theta=(0.0, math.pi / 2),
                                 wobble=0.02, rng=None):
    """Yield ``T`` slowly varying rotated anisotropic diffusion systems.

    System ``t`` (0-based) is :func:`anisotropic_diffusion` ``(m, m, epsilon, theta_t)`` with
    ``theta_t = theta_0 + (theta_1 - theta_0) t / max(T - 1, 1) + wobble * N(0, 1)``: the
    rotation angle sweeps ``theta`` over the sequence (the cross term, and with it the best
    omega, changes slowly). Then ``b ~ N(0, I_n)`` scaled to norm ``sqrt(n)``; context
    ``theta_t``, ``x0 = None``. Draw order per system: the wobble, then ``b``.

    Examples
    --------
    >>> from numfit.linalg import rotated_anisotropic_sequence
    >>> s = list(rotated_anisotropic_sequence(3, m=6, rng=0))
    >>> s[0].A.shape, round(s[-1].context, 2)
    ((36, 36), 1.61)
    """
    T = check_int("T", T, lo=0)
    m = check_int("m", m, lo=1)
    epsilon = check_float("epsilon", epsilon, lo=0.0, lo_open=True)
    try:
        th0, th1 = theta
    except (TypeError, ValueError):
        raise ValueError(f"`theta` must be a pair (theta_0, theta_1); got {theta!r}") from None
    th0, th1 = check_float("theta[0]", th0), check_float("theta[1]", th1)
    wobble = check_float("wobble", wobble, lo=0.0)
    gen = as_rng(rng)
    return _rot_gen(T, m, epsilon, th0, th1, wobble, gen)


def _rot_gen(T, m, epsilon, th0, th1, wobble, gen):
    n = m * m
    for t in range(T):
        th = th0 + (th1 - th0) * t / max(T - 1, 1) + wobble * gen.standard_normal()
        b = _unit_rhs(gen, n)
        yield LinearSystem(anisotropic_diffusion(m, m, epsilon, th), b, float(th), None)
