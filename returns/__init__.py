"""三包 return / exchange decisions inside the statutory windows and the devices sent back to the maker (issue
#23).
"""
