"""Seeded sequences of SPD systems (the experiments of Khodak et al., *Learning to Relax*,
ICLR 2024: §2-3 and App. G.2; docs/sor.md): shifted 2-D Laplacians and the
Crank-Nicolson 2-D heat equation with time-varying diffusivity."""
import math
from collections import namedtuple

import numpy as np
import scipy.sparse as sp

from .._validation import as_rng, check_float, check_int, check_option

__all__ = ["LinearSystem", "laplacian_2d", "shifted_laplacian_sequence", "HeatEquation2D",
           "default_kappa", "bump"]

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
