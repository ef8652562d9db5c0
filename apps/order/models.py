# Orders and Alipay payments arrive with issue 3.
