import pytest


@pytest.mark.django_db
def test_category_endpoint_answers_in_envelope(api_client):
    response = api_client.get("/api/v1/course/category/")
    assert response.status_code == 200
    assert response.json() == {"code": 100, "msg": "成功", "result": []}
