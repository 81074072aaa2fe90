"""Role names, grouped as the routes use them."""
ADMIN = "admin"
PROVINCE_OFFICE = "province_office"
THEMATIC_CENTER = "thematic_center"
NEIGHBORHOOD_CENTER = "neighborhood_center"
SUPERVISOR = "supervisor"
SHRINE_OFFICE = "shrine_office"
DESK_OFFICER = "desk_officer"
UNIT_OFFICER = "unit_officer"
MEMBER = "member"

OFFICE = (ADMIN, PROVINCE_OFFICE)
