"""The six arrangements an elder with a care need chooses among, and the care setting each one is."""

import numpy as np

from sim.model.elders import DAY_CARE, FAMILY, FAMILY_BED, HOME_CARE, INSTITUTION

OPTIONS = ("family", "home_care", "day_care", "family_bed", "public_home", "private_home")
N_OPTIONS = len(OPTIONS)
O_FAMILY, O_HOME, O_DAY, O_BED, O_PUBLIC, O_PRIVATE = range(N_OPTIONS)
OPTION_SETTING = np.array([FAMILY, HOME_CARE, DAY_CARE, FAMILY_BED, INSTITUTION, INSTITUTION])
HOME_OPTIONS = (O_PUBLIC, O_PRIVATE)  # the options that are a care home
SETTING_OPTION = np.array([O_FAMILY, O_FAMILY, O_HOME, O_DAY, O_BED, O_PUBLIC])  # by setting code
