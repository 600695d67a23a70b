"""Excel in and out."""
