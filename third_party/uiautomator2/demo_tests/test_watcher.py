# coding: utf-8
# author: codeskyblue

# TODO