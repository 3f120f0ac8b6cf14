"""Physical relations of the mock survey: cosmology, cluster scaling laws, XMM PSF, DSS depth.

Every number carries its tag from ``../shared/docs/mock-physics.md`` (and ``docs/mock-survey.md``):
[S] from a cited source, [D] derived from sourced inputs, [A] an assumption.
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np
from astropy import units as u
from astropy.cosmology import FlatLambdaCDM
from numpy.typing import ArrayLike, NDArray
from scipy import special

FloatArray = NDArray[np.float64]

# --- cosmology -------------------------------------------------------------------------------
H0 = 70.0  #: km/s/Mpc [S: the X-CLASS / Kosiba convention]
OM0 = 0.3  #: matter density [S]

# --- XMM-Newton EPIC, 0.5-2 keV, pn + 2 MOS summed --------------------------------------------
XRAY_PIXEL_ARCSEC = 2.5  #: X-CLASS / XAmin image pixels [S: Koulouridis+21 Fig. 9]
FOV_RADIUS_ARCMIN = 15.0  #: [S: UHB 3.3]
PSF_RC_ARCSEC = 4.0  #: King core radius on axis [D: matches UHB FWHM 6" and pn EE(15/30")=0.71/0.88]
PSF_ALPHA = 1.5  #: King slope [S: CAL-SRN-0116, alpha ~1.50-1.54 at 1-1.5 keV]
PSF_RC_PER_ARCMIN = 0.175  #: King r_c growth off axis, arcsec per arcmin [S: CAL-SRN-0116; sign A]
VIGNETTING_SLOPE = 0.03  #: V = 1 - 0.03 theta[arcmin] [A, read off UHB Fig. 13]
VIGNETTING_FLOOR = 0.5  #: [A]
RATE_PER_FLUX = 0.011 / 1e-14  #: pn+2MOS counts/s per erg/s/cm2 (0.5-2 keV) [S: XXL README; AGN ECFs give 0.0108 D]
BACKGROUND_RATE = 0.0041  #: counts/s/arcmin2 sky + particle, pn+2MOS [S: Valtchanov+01 Table 1]
BACKGROUND_PARTICLE_FRACTION = 0.5  #: share that is not vignetted [A]
PN_SHARE = 0.00703 / (0.00703 + 2 * 0.00201)  #: pn share of the summed rate, 0.64 [D: XXL README]
PN_CCD_WIDTH_ARCMIN = 4.4  #: pn CCDs 13.6' x 4.4' in two rows of six [S: UHB 3.3.2]
CHIP_GAP_ARCSEC = 15.0  #: [A: mock-physics "10-20 arcsec"]
OOT_FRACTION = 0.063  #: pn out-of-time events, full frame mode [S: UHB 3.3.2]
EXPOSURES_S = (10_000.0, 20_000.0)  #: X-CLASS clips every pointing to 10 or 20 ks [S: Koulouridis+21]

# --- clusters ------------------------------------------------------------------------------
BETA = 2.0 / 3.0  #: [A: as in XAmin simulations]
CORE_FRACTION = 0.24  #: r_c = x_c R500 [S: Clerc+12]
CORE_FRACTION_SCATTER = 0.04  #: [S: Clerc+12]
MT_NORM = 10**14.580  #: E(z) M500 = 10^14.58 (T/5 keV)^1.71 Msun [S: Arnaud+05]
MT_SLOPE = 1.71  #: [S: Arnaud+05]
LT_NORM = 2.14e44  #: E(z)^-1 L(0.5-2 keV, R500) = 2.14e44 (T/5)^3.01 erg/s [S: Pratt+09 BCES orth.]
LT_SLOPE = 3.01  #: [S: Pratt+09]
LT_SCATTER_LN = 0.7  #: sigma ln L [S: Pratt+09, 0.67-0.76]

# --- AGN logN-logS (Moretti+03, soft band) ----------------------------------------------------
LOGNLOGS_K = 6150.0  #: deg^-2 [S]
LOGNLOGS_S0 = 1.48e-14  #: erg/s/cm2 [S]

# --- DSS2 red -------------------------------------------------------------------------------
OPTICAL_PIXEL_ARCSEC = 1.0  #: [S: STScI DSS page]
SEEING_FWHM_ARCSEC = 2.5  #: [A]
SKY_MAG_ARCSEC2 = 20.75  #: R mag/arcsec2 [A: 20.5-21]
STAR_LIMIT_MAG = 20.8  #: 5 sigma point-source limit [A: POSS-II F ~20.8]
GALAXY_LIMIT_MAG = 20.0  #: galaxies visible to R ~ 20 [S: SuperCOSMOS R~20]
SATURATION_MAG = 12.5  #: stars this bright fill the emulsion [A: 12-13]
STARS_PER_DEG2_R20 = 2000.0  #: [A]
GALAXIES_PER_DEG2_R20 = 1000.0  #: [A]
STAR_COUNT_SLOPE = 0.25  #: dlogN/dm of stars at high latitude [A]
GALAXY_COUNT_SLOPE = 0.45  #: dlogN/dm of galaxies, 16 < R < 21 [A: near-Euclidean no-evolution counts]
MSTAR_R_OFFSET = 0.2  #: m*_R = m*_i + 0.2 [S/A: Lupton 05 with red-sequence r-i ~0.5]
MSTAR_KCORR_SLOPE = 2.5  #: extra dimming per unit z beyond z=0.35 (R-band k-correction) [A]
BCG_OFFSET_MAG = 1.5  #: m_BCG = m* - 1.5 [A]
BCG_SCATTER_MAG = 0.33  #: [S: Postman & Lauer 95]
SCHECHTER_ALPHA = -1.0  #: [A]


@lru_cache(maxsize=1)
def cosmology() -> FlatLambdaCDM:
    """The mock's cosmology: flat Lambda-CDM with H0=70 km/s/Mpc and Omega_m=0.3.

    Examples
    --------
    >>> round(float(cosmology().luminosity_distance(0.3).to_value("Gpc")), 3)
    1.553
    """
    return FlatLambdaCDM(H0=H0, Om0=OM0)


def efunc(z: ArrayLike) -> FloatArray:
    """E(z) = H(z)/H0 of :func:`cosmology`.

    Examples
    --------
    >>> round(float(efunc(0.3)), 3)
    1.166
    """
    return np.asarray(cosmology().efunc(np.asarray(z, dtype=float)), dtype=float)


def kpc_per_arcsec(z: ArrayLike) -> FloatArray:
    """Proper transverse scale in kpc per arcsec.

    Examples
    --------
    >>> round(float(kpc_per_arcsec(0.3)), 2)
    4.45
    """
    scale = cosmology().kpc_proper_per_arcmin(np.asarray(z, dtype=float)).to_value(u.kpc / u.arcmin)
    return np.asarray(scale, dtype=float) / 60.0


def luminosity_distance_cm(z: ArrayLike) -> FloatArray:
    """Luminosity distance in cm."""
    return np.asarray(cosmology().luminosity_distance(np.asarray(z, dtype=float)).to_value(u.cm), dtype=float)


def distance_modulus(z: ArrayLike) -> FloatArray:
    """Distance modulus 5 log10(D_L / 10 pc)."""
    return np.asarray(cosmology().distmod(np.asarray(z, dtype=float)).value, dtype=float)


def temperature_from_mass(m500: ArrayLike, z: ArrayLike) -> FloatArray:
    """Cluster temperature (keV) from M500 (Msun) through the Arnaud et al. (2005) M-T relation.

    Examples
    --------
    >>> round(float(temperature_from_mass(1e14, 0.3)), 2)
    2.5
    """
    m = np.asarray(m500, dtype=float)
    return 5.0 * (efunc(z) * m / MT_NORM) ** (1.0 / MT_SLOPE)


def luminosity_from_temperature(t_kev: ArrayLike, z: ArrayLike) -> FloatArray:
    """Mean 0.5-2 keV luminosity within R500 (erg/s), Pratt et al. (2009) orthogonal L-T fit.

    Examples
    --------
    >>> f"{float(luminosity_from_temperature(2.5, 0.3)):.2e}"
    '3.10e+43'
    """
    return efunc(z) * LT_NORM * (np.asarray(t_kev, dtype=float) / 5.0) ** LT_SLOPE


def r500_kpc(m500: ArrayLike, z: ArrayLike) -> FloatArray:
    """R500 in kpc: the radius inside which the mean density is 500 times critical.

    Examples
    --------
    >>> round(float(r500_kpc(1e14, 0.3)))
    637
    """
    rho_c = cosmology().critical_density(np.asarray(z, dtype=float)).to_value(u.Msun / u.kpc**3)
    return np.cbrt(3.0 * np.asarray(m500, dtype=float) / (4.0 * np.pi * 500.0 * rho_c))


def flux_from_luminosity(lum: ArrayLike, z: ArrayLike) -> FloatArray:
    """Flux (erg/s/cm2) from luminosity (erg/s); no K-correction ([A], as in mock-physics.md)."""
    return np.asarray(lum, dtype=float) / (4.0 * np.pi * luminosity_distance_cm(z) ** 2)


def logn_logs(s: ArrayLike) -> FloatArray:
    """Moretti et al. (2003) soft-band counts N(>S) per deg2.

    Examples
    --------
    >>> round(float(logn_logs(1e-14)))
    126
    """
    s = np.asarray(s, dtype=float)
    return LOGNLOGS_K * (2e-15) ** 1.82 / (s**1.82 + LOGNLOGS_S0**1.22 * s**0.60)


def sample_logn_logs(rng: np.random.Generator, n: int, s_min: float, s_max: float) -> FloatArray:
    """Draw ``n`` fluxes between ``s_min`` and ``s_max`` from the Moretti+03 logN-logS.

    Inverse-transform sampling on a log grid of N(>S).

    Examples
    --------
    >>> s = sample_logn_logs(np.random.default_rng(0), 1000, 1e-15, 1e-12)
    >>> bool((s >= 1e-15).all() and (s <= 1e-12).all())
    True
    """
    grid = np.geomspace(s_min, s_max, 512)
    n_gt = logn_logs(grid)
    cdf = (n_gt[0] - n_gt) / (n_gt[0] - n_gt[-1])
    return np.exp(np.interp(rng.random(n), cdf, np.log(grid)))


def vignetting(theta_arcmin: ArrayLike) -> FloatArray:
    """Effective-area fraction at off-axis angle ``theta`` (arcmin): 1 - 0.03 theta, floor 0.5.

    Examples
    --------
    >>> vignetting([0.0, 10.0, 30.0]).round(2).tolist()
    [1.0, 0.7, 0.5]
    """
    return np.maximum(1.0 - VIGNETTING_SLOPE * np.asarray(theta_arcmin, dtype=float), VIGNETTING_FLOOR)


def psf_core_radius(theta_arcmin: ArrayLike) -> FloatArray:
    """King core radius (arcsec) of the summed EPIC PSF at off-axis angle ``theta`` (arcmin)."""
    return PSF_RC_ARCSEC + PSF_RC_PER_ARCMIN * np.asarray(theta_arcmin, dtype=float)


def king_fwhm(rc: ArrayLike, alpha: float = PSF_ALPHA) -> FloatArray:
    """FWHM of the King profile ``[1 + (r/rc)^2]^-alpha``.

    Examples
    --------
    >>> round(float(king_fwhm(4.0)), 2)
    6.13
    """
    return 2.0 * np.asarray(rc, dtype=float) * np.sqrt(2.0 ** (1.0 / alpha) - 1.0)


def king_surface(r2: ArrayLike, rc: float, alpha: float = PSF_ALPHA) -> FloatArray:
    """King PSF per unit area (normalised to 1 over the plane) at squared radius ``r2``."""
    return (alpha - 1.0) / (np.pi * rc**2) * (1.0 + np.asarray(r2, dtype=float) / rc**2) ** (-alpha)


def mstar_r(z: ArrayLike) -> FloatArray:
    """Characteristic R magnitude of cluster galaxies at redshift ``z``.

    Rykoff et al. (2012) m*_i(z) plus 0.2 (i -> R) for z <= 0.35; beyond, m*(0.35) shifted by the
    change of distance modulus plus a k-correction of 2.5 mag per unit redshift [A].

    Examples
    --------
    >>> [round(float(m), 1) for m in mstar_r([0.1, 0.3, 0.5, 1.0])]
    [16.5, 19.1, 20.7, 23.8]
    """
    z = np.asarray(z, dtype=float)
    zc = np.minimum(z, 0.35)
    mi = 12.27 + 62.36 * zc - 289.79 * zc**2 + 729.69 * zc**3 - 709.42 * zc**4
    m = mi + MSTAR_R_OFFSET
    beyond = z > 0.35
    if np.any(beyond):
        zb = np.where(beyond, z, 0.35)
        extra = distance_modulus(zb) - distance_modulus(0.35) + MSTAR_KCORR_SLOPE * (zb - 0.35)
        m = np.where(beyond, m + extra, m)
    return m


def schechter_sample(rng: np.random.Generator, n: int, x_min: float, x_max: float = 20.0) -> FloatArray:
    """Draw ``n`` luminosities L/L* from a Schechter function with slope ``SCHECHTER_ALPHA`` = -1.

    Examples
    --------
    >>> x = schechter_sample(np.random.default_rng(1), 500, 0.1)
    >>> bool(x.min() >= 0.1)
    True
    """
    grid = np.geomspace(x_min, x_max, 256)
    # N(>x) for alpha = -1 is the exponential integral E1(x)
    n_gt = special.exp1(grid)
    cdf = (n_gt[0] - n_gt) / (n_gt[0] - n_gt[-1])
    return np.exp(np.interp(rng.random(n), cdf, np.log(grid)))


def schechter_number_ratio(x_min: float, x_ref: float = 0.2) -> float:
    """N(>x_min) / N(>x_ref) for the alpha = -1 Schechter function (richness is N(>0.2 L*))."""
    return float(special.exp1(x_min) / special.exp1(x_ref))


def mag_to_flux(mag: ArrayLike, zeropoint: float) -> FloatArray:
    """Linear flux of magnitude ``mag`` in units where magnitude ``zeropoint`` has flux 1."""
    return 10.0 ** (-0.4 * (np.asarray(mag, dtype=float) - zeropoint))
