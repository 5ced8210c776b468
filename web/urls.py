from django.urls import path

from . import me, views

# No namespace: the base template links to "home" (kept from the skeleton).
urlpatterns = [
    path("", views.home, name="home"),
    path("centers/", views.centers, name="web_centers"),
    path("centers/verify/", views.verify, name="web_verify"),
    path("centers/verify/report/", views.store_report, name="web_store_report"),
    path("centers/verify/report/<str:token>/", views.store_report_done, name="web_store_report_done"),
    path("centers/<str:code>/", views.center_detail, name="web_center"),
    path("book/", views.book, name="web_book"),
    path("book/<str:service_no>/done/", views.book_done, name="web_book_done"),
    path("book/<str:service_no>/calendar.ics", views.book_ics, name="web_book_ics"),
    path("appointments/<str:service_no>/", views.appointment_change, name="web_appointment_change"),
    path("mail-in/", views.mail_in, name="web_mail_in"),
    path("mail-in/<str:service_no>/done/", views.mail_in_done, name="web_mail_in_done"),
    path("on-site/", views.on_site, name="web_on_site"),
    path("on-site/<str:service_no>/done/", views.on_site_done, name="web_on_site_done"),
    path("warranty/", views.warranty, name="web_warranty"),
    path("warranty/checkout/", views.checkout, name="web_checkout"),
    path("warranty/orders/<str:token>/", views.plan_order, name="web_plan_order"),
    path("prices/", views.prices, name="web_prices"),
    path("prices/<str:code>/", views.price_model, name="web_price_model"),
    path("survey/<str:service_no>/", views.survey, name="web_survey"),
    path("callback/", views.callback, name="web_callback"),
    path("me/", me.me, name="web_me"),
    path("me/sign-in/", me.me_sign_in, name="web_me_sign_in"),
    path("me/logout/", me.me_logout, name="web_me_logout"),
]
